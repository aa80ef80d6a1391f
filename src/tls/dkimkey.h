/* The DKIM private keys, HOME/secret/dkim/DOMAIN/SELECTOR (doc/dkim.md):
 * what postern-dkim signs with, and what postern-dkimkey writes and reads
 * back.  Here, beside the PEM reading, for BearSSL's RSA.  Of an Ed25519
 * key only the seed is kept: each program derives the key pair with
 * libsodium, which src/tls may not call (postern-tlsio and postern-keys
 * link these files too, without it).  Nothing here logs or prints a
 * secret byte. */
#ifndef POSTERN_TLS_DKIMKEY_H
#define POSTERN_TLS_DKIMKEY_H
#include <stddef.h>
#include <stdint.h>
#include <bearssl.h>

#define DKIM_RSA_BITS_MIN 2048 /* under it RSA no longer holds */
#define DKIM_RSA_BITS_MAX 4096 /* over it BearSSL cannot sign */
#define DKIM_RSA_BYTES_MAX (DKIM_RSA_BITS_MAX / 8)
#define DKIM_ED25519_SEED 32
#define DKIM_NAME_MAX 253      /* a domain or a selector (dkim_name_ok's limit) */
#define DKIM_KEY_LABEL "._domainkey." /* between a key's selector and domain in DNS */

/* An Ed25519 key as PKCS#8 DER, as `openssl genpkey -algorithm ed25519`
 * writes it (RFC 8410): these 16 bytes, then the 32 of the seed. */
#define DKIM_ED25519_DER_HEAD 16
extern const unsigned char dkimkey_ed25519_head[DKIM_ED25519_DER_HEAD];

struct dkimkey {
	char alg;                   /* 'r' rsa-sha256, 'e' ed25519-sha256 */
	br_rsa_private_key rsa;     /* 'r': its parts point into buf */
	unsigned char buf[BR_RSA_KBUF_PRIV_SIZE(DKIM_RSA_BITS_MAX)];
	unsigned char n[DKIM_RSA_BYTES_MAX]; /* 'r': the public half, as the */
	size_t nlen;                         /* file has it (BearSSL's private */
	uint32_t e;                          /* key holds neither) */
	unsigned char seed[DKIM_ED25519_SEED]; /* 'e' */
};

/* Dies (111, naming path) unless the file is a regular file of at most
 * 1 MB, readable and writable by its owner alone, holding exactly one
 * unencrypted private key in PEM: RSA of 2048 to 4096 bits ("RSA PRIVATE
 * KEY", or PKCS#8 "PRIVATE KEY"), with a public exponent of at most 32
 * bits, whose parts fit together (a test signature verifies with the
 * modulus and exponent the file gives), or Ed25519 in PKCS#8 "PRIVATE
 * KEY" exactly as above.  Every copy of the key's bytes but k's is
 * wiped. */
void dkimkey_load(struct dkimkey *k, const char *path);
/* k holds a copy of sk and pk (n_bitlen 2048 to 4096, an exponent of at
 * most 32 bits, as BearSSL makes them): 0, or -1 when they do not fit. */
int dkimkey_set_rsa(struct dkimkey *k, const br_rsa_private_key *sk, const br_rsa_public_key *pk);
/* Zeroes the whole of k. */
void dkimkey_wipe(struct dkimkey *k);
/* k's public exponent as big-endian bytes without leading zeros, into e:
 * how many (1 to 4). */
size_t dkimkey_e_bytes(const struct dkimkey *k, unsigned char e[4]);
/* Signs the 32 bytes of hash with k's RSA key (RSASSA-PKCS1-v1_5, the
 * SHA-256 OID), into sig (k->nlen bytes), and verifies the signature
 * with k's public half before it may be given out: a faulty RSA-CRT
 * signature (a bit flipped in memory or in the processor while it was
 * made) gives away the key's primes to whoever gets it.  0; -1 when
 * BearSSL cannot sign; -2 when the signature does not verify (sig is
 * then zeroed). */
int dkimkey_rsa_sign(const struct dkimkey *k, const unsigned char hash[32], unsigned char *sig);

/* 1 when s (n bytes) is a name a key file may have: a name dkim_name_ok
 * takes (src/lib/dkim.h: labels separated by single dots, none empty or
 * over 63 bytes, at most 253 bytes in all) in lower case, of letters,
 * digits and '-' (a selector: and '_'); a domain has at least two
 * labels, so that no key is ever one for a whole top-level domain.
 * Being one path component of letters, digits and dots that is never "."
 * or "..", it names a file under HOME/secret/dkim/ and nothing else. */
int dkimkey_name_ok(const char *s, size_t n, int selector);
/* 1 when SELECTOR._domainkey.DOMAIN, the name a key's record is published
 * at, is itself a name DNS can have: at most DKIM_NAME_MAX bytes, given
 * the lengths of a selector and a domain dkimkey_name_ok takes. */
int dkimkey_dns_name_ok(size_t selector_len, size_t domain_len);
#endif
