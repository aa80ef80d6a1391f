/* A new DKIM key and the PEM text of its file.  The randomness is the
 * kernel's (libsodium's randombytes_buf: getrandom), 48 bytes of it
 * seeding BearSSL's HMAC-DRBG for the RSA primes, 32 being the Ed25519
 * seed itself. */
#include <string.h>
#include <sodium.h>
#include "keymaker.h"
#include "die.h"

#define RSA_E 65537
/* the traditional DER of an RSA-4096 key is about 2,350 bytes */
#define DER_MAX 4096

static void pem_of(struct str *pem, const unsigned char *der, size_t n, const char *banner)
{
	size_t len = br_pem_encode(0, der, n, banner, BR_PEM_LINE64);

	/* room for the whole text at once: no copy of it left in freed memory */
	pem->len = 0;
	if (!str_ready(pem, len + 1))
		die_nomem();
	if (br_pem_encode(pem->s, der, n, banner, BR_PEM_LINE64) != len)
		die(111, "fatal: unable to encode the key in PEM");
	pem->len = len;
}

void make_rsa(struct dkimkey *k, unsigned bits, struct str *pem)
{
	br_hmac_drbg_context rng;
	br_rsa_private_key sk;
	br_rsa_public_key pk;
	unsigned char seed[48], kpriv[BR_RSA_KBUF_PRIV_SIZE(DKIM_RSA_BITS_MAX)],
	              kpub[BR_RSA_KBUF_PUB_SIZE(DKIM_RSA_BITS_MAX)], d[DKIM_RSA_BYTES_MAX], der[DER_MAX];
	size_t dlen, derlen;

	randombytes_buf(seed, sizeof seed);
	br_hmac_drbg_init(&rng, &br_sha256_vtable, seed, sizeof seed);
	sodium_memzero(seed, sizeof seed);
	if (!br_rsa_keygen_get_default()(&rng.vtable, &sk, kpriv, &pk, kpub, bits, RSA_E))
		die(111, "fatal: unable to make an RSA key");
	sodium_memzero(&rng, sizeof rng);
	/* the private exponent, which BearSSL itself never needs, is in
	 * the file for every other program that reads it */
	dlen = br_rsa_compute_privexp_get_default()(d, &sk, RSA_E);
	if (dlen == 0)
		die(111, "fatal: unable to compute the RSA key's private exponent");
	derlen = br_encode_rsa_raw_der(0, &sk, &pk, d, dlen);
	if (derlen == 0 || derlen > sizeof der || br_encode_rsa_raw_der(der, &sk, &pk, d, dlen) != derlen)
		die(111, "fatal: unable to encode the RSA key");
	sodium_memzero(d, sizeof d);
	pem_of(pem, der, derlen, "RSA PRIVATE KEY");
	sodium_memzero(der, sizeof der);
	if (dkimkey_set_rsa(k, &sk, &pk) == -1)
		die(111, "fatal: the RSA key made does not fit its buffer");
	sodium_memzero(kpriv, sizeof kpriv);
	sodium_memzero(&sk, sizeof sk);
}

void make_ed25519(struct dkimkey *k, struct str *pem)
{
	unsigned char der[DKIM_ED25519_DER_HEAD + DKIM_ED25519_SEED];

	dkimkey_wipe(k);
	randombytes_buf(k->seed, sizeof k->seed);
	memcpy(der, dkimkey_ed25519_head, DKIM_ED25519_DER_HEAD);
	memcpy(der + DKIM_ED25519_DER_HEAD, k->seed, DKIM_ED25519_SEED);
	pem_of(pem, der, sizeof der, "PRIVATE KEY");
	sodium_memzero(der, sizeof der);
	k->alg = 'e';
}
