/* MTA-STS (RFC 8461): the text of it, with no I/O: the TXT record at
 * _mta-sts.DOMAIN, the HTTPS response that carries a policy, the policy,
 * its MX patterns, and the cache file postern-remote keeps a policy in
 * (doc/remote.md, "MTA-STS").  Strangers write all of these (the cache
 * file only what a policy's fetch wrote into it), so every length is
 * bounded and every byte checked. */
#ifndef POSTERN_MTASTS_H
#define POSTERN_MTASTS_H
#include <stddef.h>
#include "str.h"

#define MTASTS_ID_MAX 32            /* id: 1*32(ALPHA / DIGIT), RFC 8461 3.1 */
#define MTASTS_MX_MAX 16            /* mx patterns kept; a policy with more is refused */
#define MTASTS_NAME_MAX 253         /* an mx pattern's length, trailing dot gone */
#define MTASTS_BODY_MAX 65536       /* a policy's bytes (RFC 8461 3.3: 64 KB) */
#define MTASTS_HEAD_MAX 16384       /* the HTTP response's status line and fields */
#define MTASTS_MAXAGE_MAX 31557600u /* max_age's ceiling (RFC 8461 3.2): larger values are cut to it */

enum mtasts_mode { MTASTS_NONE, MTASTS_TESTING, MTASTS_ENFORCE };

struct mtasts_policy {
	enum mtasts_mode mode;
	unsigned long max_age;                        /* seconds, at most MTASTS_MAXAGE_MAX */
	size_t nmx;
	char mx[MTASTS_MX_MAX][MTASTS_NAME_MAX + 1];  /* lower case, no trailing dot; "*.x.y" a wildcard */
};

/* One TXT record of _mta-sts.DOMAIN (its strings joined), n bytes.
 * 1: an STS record ("v=STSv1" first, then sts-sep: RFC 8461 3.1's ABNF,
 * blanks around '=' and ';' allowed, and after the last field), well
 * formed, with its id copied NUL-terminated into id; further fields
 * (name=value) are ignored.  0: not an STS record (one that does not
 * start, at its first byte, with "v=STSv1", blanks around its '=' aside,
 * and then a ';': 3.1 discards it; so "v=STSv10" and "v=STSv1" alone
 * are none).
 * -1: an STS record that is malformed (no id, an id not 1-32 letters
 * and digits, a field that is not name=value as the ABNF has it, a
 * second id); id is then empty.  The caller counts: anything but exactly
 * one record giving 1 means no policy. */
int mtasts_txt(const char *rec, size_t n, char id[MTASTS_ID_MAX + 1]);

/* A policy (RFC 8461 3.2), n bytes: lines "name: value" ended by LF or
 * CRLF (the last line's end may be missing), blanks around the colon and
 * at the line's end allowed, empty lines skipped.  Names and the values
 * of version and mode are case-sensitive, as 3.2's ABNF has them.
 * version: STSv1 required; mode: enforce, testing or none required;
 * max_age: 1 to 10 digits required (cut to MTASTS_MAXAGE_MAX); mx: a
 * pattern, at least one unless mode is none, at most MTASTS_MX_MAX, each
 * a host name (LDH labels of 1-63 bytes) or "*." and one, at most
 * MTASTS_NAME_MAX bytes, stored lower case without a trailing dot; any
 * other field name (ALPHA, DIGIT, '_', '-', '.') is ignored.  A repeated
 * version, mode or max_age, a line without a colon or starting with a
 * blank, a control byte (NUL, a CR not before LF) anywhere, a byte over
 * 0x7e in a value of ours, more than MTASTS_BODY_MAX bytes: refused.  0
 * with *p filled, or -1 with *p zeroed and *why a short reason (static
 * text). */
int mtasts_policy_parse(const char *body, size_t n, struct mtasts_policy *p, const char **why);

/* 1 if host (n bytes; a trailing dot ignored; any case) matches one of
 * p's patterns (RFC 8461 4.1): equal to it, or, for "*.rest", exactly
 * one label followed by ".rest" (so "*.example.com" matches
 * "mx.example.com", not "example.com" nor "a.b.example.com"); else 0. */
int mtasts_mx_match(const struct mtasts_policy *p, const char *host, size_t n);

/* An HTTP/1.0 or HTTP/1.1 response read until the server closed (buf, n
 * bytes): 0 with *body and *len the policy's bytes, or -1 with *why
 * (and *body null).  The status line must say 200 (3xx is not followed:
 * RFC 8461 3.3; the reason phrase may be empty); the fields (at most
 * MTASTS_HEAD_MAX bytes up to and with the blank line, CRLF or LF; a
 * folded line, a blank before a colon refused) must have Content-Type
 * text/plain (any case, parameters allowed); a Content-Length must be
 * there unless the body is chunked, and exactly the body's length (a
 * shorter body: truncated, refused; two that differ, refused; none: a
 * body that ends where the connection did may have been cut short on
 * the way, since a close without close_notify reaches postern-remote
 * as an end like any other); Transfer-Encoding chunked is
 * decoded into dec (the caller's, *body then points into it; extensions
 * and trailers checked for their bytes and ignored; nothing may follow
 * the last chunk's trailers), any other Transfer-Encoding refused, and
 * so are both it and Content-Length and it in an HTTP/1.0 response (RFC
 * 9112 6.1, 6.3: faulty framing); the body at most MTASTS_BODY_MAX
 * bytes. */
int mtasts_http_response(const char *buf, size_t n, struct str *dec, const char **body, size_t *len,
                         const char **why);

/* The cache file of one domain: "postern-mtasts 1\n", "id ID\n",
 * "fetched SECONDS\n" (Unix time of the fetch, decimal without leading
 * zeros), "\n", then the policy's bytes as fetched.
 * mtasts_cache_format writes it into out, replacing what out held (1, or
 * 0 out of memory, or with errno EINVAL for an id not 1-32 letters and
 * digits, a negative time or a body over MTASTS_BODY_MAX: what the
 * parser would refuse is not written); mtasts_cache_parse reads it: 0
 * with id, *fetched, and *body and *len pointing into buf, -1 for
 * anything else (a file of another form is no cache). */
int mtasts_cache_format(struct str *out, const char *id, long long fetched, const char *body, size_t len);
int mtasts_cache_parse(const char *buf, size_t n, char id[MTASTS_ID_MAX + 1], long long *fetched,
                       const char **body, size_t *len);
#endif
