/* HOME/secret/tls/cert.pem, read once at start into the C record that
 * every connection gets first (doc/tls.md, "The key holder"). */
#ifndef POSTERN_KEYS_CHAIN_H
#define POSTERN_KEYS_CHAIN_H
#include <stddef.h>
#include <bearssl.h>
#include "str.h"

/* The whole record, the 3 bytes before the chain included.  doc/tls.md
 * says "at most 65,536 bytes in all"; holding the record to it satisfies
 * an engine that read that as the record's size as well as one that read
 * it as the chain's. */
#define CHAIN_RECORD_MAX 65536
/* postern-tlsio takes at most this many certificates from the record */
#define CHAIN_CERTS_MAX 16

struct chain {
	struct str rec;   /* 'C', key type, curve, then length + DER each */
	size_t certs;
	br_x509_decoder_context first; /* the server's certificate, decoded */
};

/* Dies (111, naming path) on a file that is not one or more certificates
 * in PEM, or whose record would be over CHAIN_RECORD_MAX. */
void chain_load(struct chain *, const char *path);
/* The server certificate's public key (valid while the chain lives). */
const br_x509_pkey *chain_pkey(struct chain *);
/* Fills in the record's key type ('E' or 'R') and curve bytes. */
void chain_set_key(struct chain *, char type, unsigned char curve);
#endif
