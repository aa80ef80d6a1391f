/* HOME/secret/tls/key.pem: the private key, read once at start and then
 * only ever used to sign (sign.h).  It is never logged and never sent. */
#ifndef POSTERN_KEYS_KEY_H
#define POSTERN_KEYS_KEY_H
#include <bearssl.h>

struct key {
	int type;                     /* BR_KEYTYPE_EC or BR_KEYTYPE_RSA */
	const br_ec_private_key *ec;  /* the one of the two it is */
	const br_rsa_private_key *rsa;
	br_skey_decoder_context dc;   /* holds the key's bytes */
};

/* Dies (111, naming path) unless the file is one unencrypted RSA or EC
 * private key in PEM (PKCS#8, or the traditional "RSA PRIVATE KEY" and
 * "EC PRIVATE KEY"), readable by its owner alone, on P-256, P-384 or P-521,
 * or RSA of 2048 to 4096 bits. */
void key_load(struct key *, const char *path);
/* Dies (111) unless the key is the one whose public half is pk, the
 * first certificate's. */
void key_match(const struct key *, const br_x509_pkey *pk, const char *keypath, const char *certpath);
/* Dies (111) for a certificate or key BearSSL's decoder refused with err:
 * "PATH: WHAT cannot be used: why". */
_Noreturn void key_unusable(const char *path, const char *what, int err);
/* "P-256", "P-384", "P-521" */
const char *key_curve_name(int curve);
/* The modulus' size of an RSA key, or the curve's of an EC one. */
unsigned key_bits(const struct key *);
#endif
