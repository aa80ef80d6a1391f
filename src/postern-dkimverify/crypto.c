/* The arithmetic of a signature: RSA PKCS #1 v1.5 with SHA-256 through
 * BearSSL (RFC 6376 3.3.1), Ed25519 over the SHA-256 through libsodium
 * (RFC 8463 3).  The key sizes are RFC 8301's: a verifier must not take
 * an RSA key under 1024 bits; over 4096 BearSSL cannot check. */
#include <string.h>
#include <bearssl.h>
#include <sodium.h>
#include "verify.h"
#include "die.h"
#include "qqfilter.h"

static size_t bits(const unsigned char *n, size_t len)
{
	unsigned char top = n[0];
	size_t b = len * 8;

	while (!(top & 0x80)) {
		top = (unsigned char)(top << 1);
		b--;
	}
	return b;
}

static const char *rsa(const struct dkimv_sig *s, const struct dkimv_key *k, const unsigned char hash[32])
{
	const unsigned char *mod, *exp;
	size_t modlen, explen, b;
	unsigned char got[32];
	br_rsa_public_key pk;

	if (dkimv_rsa_key(k->p, k->plen, &mod, &modlen, &exp, &explen) == -1 || modlen == 0 || explen == 0)
		return "malformed key record";
	b = bits(mod, modlen);
	if (b < DKIMV_RSA_MIN_BITS)
		return "key too small";
	if (b > DKIMV_RSA_MAX_BITS)
		return "key too large";
	if (s->blen != modlen)
		return "signature did not verify";
	pk.n = (unsigned char *)mod;
	pk.nlen = modlen;
	pk.e = (unsigned char *)exp;
	pk.elen = explen;
	if (!br_rsa_pkcs1_vrfy_get_default()(s->b, s->blen, BR_HASH_OID_SHA256, sizeof got, &pk, got))
		return "signature did not verify";
	/* the padding held a SHA-256 digest: is it ours? */
	if (memcmp(got, hash, sizeof got) != 0)
		return "signature did not verify";
	return 0;
}

static const char *ed25519(const struct dkimv_sig *s, const struct dkimv_key *k, const unsigned char hash[32])
{
	static int ready;

	if (k->plen != crypto_sign_ed25519_PUBLICKEYBYTES)
		return "malformed key record";
	if (!ready) {
		if (sodium_init() == -1)
			die(QF_BUG, "fatal: unable to start libsodium");
		ready = 1;
	}
	if (s->blen != crypto_sign_ed25519_BYTES ||
	    crypto_sign_ed25519_verify_detached(s->b, hash, 32, k->p) != 0)
		return "signature did not verify";
	return 0;
}

const char *crypto_verify(const struct dkimv_sig *s, const struct dkimv_key *k, const unsigned char hash[32])
{
	return s->alg == DKIMV_ED25519_SHA256 ? ed25519(s, k, hash) : rsa(s, k, hash);
}
