/* postern-dkimkey's pieces: main.c has the program, doc/dkim.md the key
 * files and control/dkimdomains. */
#ifndef POSTERN_DKIMKEY_KEYMAKER_H
#define POSTERN_DKIMKEY_KEYMAKER_H
#include "../tls/dkimkey.h"
#include "str.h"

/* make.c: a new key into k, and the PEM text of its file into pem: RSA
 * of bits (2048 to 4096) with the exponent 65537 as "RSA PRIVATE KEY",
 * or Ed25519 as PKCS#8 "PRIVATE KEY" (what dkimkey_load reads).  Every
 * other copy of the key's bytes is wiped; the caller wipes k and pem.
 * Dies 111 when it cannot. */
void make_rsa(struct dkimkey *k, unsigned bits, struct str *pem);
void make_ed25519(struct dkimkey *k, struct str *pem);

/* record.c: writes k's DNS record to stdout, in zone-file syntax:
 * SELECTOR._domainkey.DOMAIN. IN TXT ( "v=DKIM1; k=rsa; " "p=..." ),
 * each string at most 255 characters; p= is the base64 of the DER
 * SubjectPublicKeyInfo of an RSA key, of the 32 bytes of an Ed25519 one
 * (RFC 8463).  Dies 111 when it cannot. */
void record_print(const char *domain, const char *selector, const struct dkimkey *k);
#endif
