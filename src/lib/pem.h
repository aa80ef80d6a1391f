/* PEM (RFC 7468) as postern-keys (cert.pem, key.pem), postern-dkim (its
 * keys) and postern-tlsio (control/tlscafile) read it.  Written here
 * rather than taken from BearSSL, whose decoder runs a byte at a time
 * through its T0 interpreter: Debian's CA bundle took 33 of the 41 ms
 * postern-tlsio spent on it at every verifying handshake
 * (doc/tls.md, "Measured"). */
#ifndef POSTERN_PEM_H
#define POSTERN_PEM_H
#include "str.h"

#define PEM_LABEL_MAX 127 /* BearSSL kept 127 characters of a label */

/* Called for every object, in order: name its label (as in the BEGIN
 * line: "CERTIFICATE", "PRIVATE KEY"), der its decoded bytes, which the
 * next object overwrites.  NULL to go on, or why the walk stops. */
typedef const char *pem_each(void *ctx, const char *name, const struct str *der);

/* Walks text's objects: a line "-----BEGIN LABEL-----", base64 lines
 * (blanks and CRs anywhere in them are skipped, as RFC 7468's lax
 * parsers do), a line "-----END LABEL-----" with the same label.  Lines
 * outside objects are explanatory text and skipped.  der is the caller's
 * (so that it can wipe what held a key); it is made large enough once,
 * before the first object, so that no part of a key is left behind in
 * memory given back by a realloc.  0, or -1 with why set: each's reason,
 * or a text naming the object that is not valid base64, ends with
 * another label or has no END line. */
int pem_walk(const struct str *text, struct str *der, pem_each *each, void *ctx, struct str *why);
#endif
