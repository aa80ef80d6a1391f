/* The PEM reading that postern-keys (cert.pem, key.pem) and postern-tlsio
 * (control/tlscafile) share.  src/tls is compiled only for the programs
 * that link BearSSL, which the musl-built src/lib cannot include. */
#ifndef POSTERN_TLS_PEM_H
#define POSTERN_TLS_PEM_H
#include "str.h"

/* Called for every PEM object, in order: name as BearSSL gives it (upper
 * case, no dashes), der its decoded bytes, which the next object
 * overwrites.  NULL to go on, or why the walk stops. */
typedef const char *pem_each(void *ctx, const char *name, const struct str *der);

/* Walks text's PEM objects.  der is the caller's (so that it can wipe
 * what held a key).  0, or -1 with why set: each's reason, or a text
 * naming the object that is not valid base64 or has no END line. */
int pem_walk(const struct str *text, struct str *der, pem_each *each, void *ctx, struct str *why);
#endif
