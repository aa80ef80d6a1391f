/* TLSA records (RFC 6698) as postern passes them from postern-remote,
 * through postern-tlsd, to postern-tlsio (doc/tls.md, the C request with
 * policy d): one record a string of three digits, usage, selector and
 * matching type, then the certificate association data in lower-case
 * hex.  Only what RFC 7672 has SMTP use is passed: DANE-TA (2) and
 * DANE-EE (3), the full certificate (0) or its SubjectPublicKeyInfo (1),
 * as a SHA-256 (1) or SHA-512 (2) digest; the rest is unusable and never
 * leaves postern-remote. */
#ifndef POSTERN_TLSA_H
#define POSTERN_TLSA_H
#include <stddef.h>
#include "str.h"

#define TLSA_RECORDS_MAX 8    /* records one request carries; more are left out */
#define TLSA_TEXT_MAX (3 + 128) /* "USM" and the hex of a SHA-512 digest */

/* 1 when s (n bytes) is one usable record in the text form above. */
int tlsa_text_ok(const char *s, size_t n);
/* A TLSA record's RDATA (len bytes) in the text form, appended to out
 * when it is usable: 1 appended, 0 unusable (out unchanged), -1 out of
 * memory. */
int tlsa_text_from_rdata(struct str *out, const unsigned char *rd, size_t len);
#endif
