#include <string.h>
#include "key.h"
#include "die.h"
#include "fmt.h"
#include "../tls/pemfile.h"

struct loading {
	struct key *k;
	const char *path;
	int found;
};

static const char *take_key(void *ctx, const char *name, const struct str *der)
{
	struct loading *l = ctx;

	/* openssl ecparam -genkey writes the curve's parameters before the
	 * key; they say nothing the key does not. */
	if (strcmp(name, "EC PARAMETERS") == 0)
		return 0;
	if (strcmp(name, "ENCRYPTED PRIVATE KEY") == 0)
		die(111, "fatal: ", l->path, " holds an encrypted key: postern-keys starts unattended, "
		    "so the key is kept unencrypted and the file's mode protects it");
	if (strcmp(name, "PRIVATE KEY") != 0 && strcmp(name, "EC PRIVATE KEY") != 0 &&
	    strcmp(name, "RSA PRIVATE KEY") != 0)
		die(111, "fatal: ", l->path, " holds a PEM object that is not a private key: ", name);
	if (l->found)
		die(111, "fatal: ", l->path, " holds more than one private key");
	l->found = 1;
	br_skey_decoder_init(&l->k->dc);
	br_skey_decoder_push(&l->k->dc, der->s, der->len);
	return 0;
}

static _Noreturn void die_num(const char *path, const char *what, unsigned long long n, const char *after)
{
	char num[FMT_ULONG];
	num[fmt_ulong(num, n)] = 0;
	die(111, "fatal: ", path, what, num, after);
}

void key_load(struct key *k, const char *path)
{
	struct str text = STR_INIT, der = STR_INIT;
	struct loading l = { k, path, 0 };
	struct stat st;
	int err;

	pem_read(path, &text, &st);
	/* The key must be this program's alone: the whole point of a key
	 * holder is that no other user, postern-tls least of all, can read
	 * it.  A file its group or the world may read has been exposed
	 * already, or will be; refusing says so before a handshake uses it. */
	if (st.st_mode & 077)
		die(111, "fatal: ", path, " may be read or written by its group or others: "
		    "chmod 600 it (and consider the key exposed)");
	/* room for an RSA-4096 key in PKCS#8 up front: growing would leave
	 * copies of the key behind in freed memory */
	if (!str_ready(&der, 4096))
		die_nomem();
	pem_decode(path, &text, &der, take_key, &l);
	str_wipe(&text);
	str_wipe(&der);
	if (!l.found)
		die(111, "fatal: ", path, " holds no private key in PEM");
	err = br_skey_decoder_last_error(&k->dc);
	if (err != 0)
		key_unusable(path, "the key", err);
	k->type = br_skey_decoder_key_type(&k->dc);
	k->ec = br_skey_decoder_get_ec(&k->dc);
	k->rsa = br_skey_decoder_get_rsa(&k->dc);
	/* BearSSL 0.6 decodes no other curve; this keeps the promise should
	 * a later one. */
	if (k->ec && !key_curve_name(k->ec->curve))
		die_num(path, ": the key's curve is BearSSL's number ", (unsigned long long)k->ec->curve,
		        ": postern speaks P-256, P-384 and P-521 (doc/tls.md)");
	/* Under 2048 bits RSA no longer holds; over 4096 BearSSL cannot sign. */
	if (k->rsa && (k->rsa->n_bitlen < 2048 || k->rsa->n_bitlen > 4096))
		die_num(path, ": the RSA key has ", k->rsa->n_bitlen, " bits: 2048 to 4096 are taken");
	if (!k->ec && !k->rsa)
		die(111, "fatal: ", path, ": the key is neither RSA nor EC");
}

void key_unusable(const char *path, const char *what, int err)
{
	char num[FMT_ULONG];

	num[fmt_ulong(num, (unsigned long long)err)] = 0;
	die(111, "fatal: ", path, ": ", what, " cannot be used: ",
	    err == BR_ERR_X509_UNSUPPORTED ? "it is neither RSA nor EC on P-256, P-384 or P-521" : "it is not valid DER",
	    " (BearSSL's error ", num, ")");
}

const char *key_curve_name(int curve)
{
	switch (curve) {
	case BR_EC_secp256r1: return "P-256";
	case BR_EC_secp384r1: return "P-384";
	case BR_EC_secp521r1: return "P-521";
	}
	return 0;
}

unsigned key_bits(const struct key *k)
{
	if (k->rsa)
		return (unsigned)k->rsa->n_bitlen;
	switch (k->ec->curve) {
	case BR_EC_secp256r1: return 256;
	case BR_EC_secp384r1: return 384;
	}
	return 521;
}

static int ec_matches(const br_ec_private_key *sk, const br_ec_public_key *pk)
{
	unsigned char q[BR_EC_KBUF_PUB_MAX_SIZE];
	size_t n;

	if (sk->curve != pk->curve)
		return 0;
	n = br_ec_compute_pub(br_ec_get_default(), 0, q, sk);
	return n != 0 && n == pk->qlen && memcmp(q, pk->q, n) == 0;
}

/* The modulus says p and q are the certificate's; a signature it
 * verifies says the exponents are too (an e other than the certificate's
 * would give signatures no client accepts, found here instead of at every
 * handshake).  BearSSL cannot recompute e itself from just any key.
 *
 * p times q with BearSSL's i15 code: 0.6's default, i31, returns 0 (no
 * room) for every 4096-bit key, which would refuse them all, while i15's
 * room holds p, q and their product up to 4096 bits (BR_MAX_RSA_SIZE).
 * Slower, but it runs once, at start. */
static int rsa_matches(const br_rsa_private_key *sk, const br_rsa_public_key *pk)
{
	static const unsigned char hash[32] = "postern-keys: is this the key?";
	unsigned char n[512], sig[512], back[32];
	const unsigned char *pn = pk->n;
	size_t len, plen = pk->nlen;

	len = br_rsa_i15_compute_modulus(0, sk);
	if (len == 0 || len > sizeof n || br_rsa_i15_compute_modulus(n, sk) != len)
		return 0;
	while (plen && *pn == 0) {
		pn++;
		plen--;
	}
	if (plen != len || memcmp(n, pn, len) != 0)
		return 0;
	if (!br_rsa_pkcs1_sign_get_default()(BR_HASH_OID_SHA256, hash, sizeof hash, sk, sig))
		return 0;
	return br_rsa_pkcs1_vrfy_get_default()(sig, len, BR_HASH_OID_SHA256, sizeof back, pk, back) &&
	       memcmp(back, hash, sizeof back) == 0;
}

void key_match(const struct key *k, const br_x509_pkey *pk, const char *keypath, const char *certpath)
{
	int ok = 0;

	if (k->ec && pk->key_type == BR_KEYTYPE_EC)
		ok = ec_matches(k->ec, &pk->key.ec);
	else if (k->rsa && pk->key_type == BR_KEYTYPE_RSA)
		ok = rsa_matches(k->rsa, &pk->key.rsa);
	if (!ok)
		die(111, "fatal: the key in ", keypath, " is not the key of the first certificate in ", certpath);
}
