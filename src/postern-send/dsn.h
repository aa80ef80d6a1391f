/* RFC 3464 delivery status notifications, built from what postern-send
 * knows: the envelope, the failure reasons, and the original's header
 * section.  Pure, so tests/unit/send_dsn.c can check the format. */
#ifndef POSTERN_SEND_DSN_H
#define POSTERN_SEND_DSN_H
#include <stddef.h>
#include "str.h"

/* A report is at most DSN_MAX bytes: postern-queue takes that much over
 * control/databytes (its TRACE_ALLOWANCE), so a bounce or a warning is
 * never refused for its size.  The original's headers are quoted up to
 * DSN_HEADERS_MAX bytes, and the recipients are detailed as far as the
 * rest allows (11 when every address and reason is as long as can be,
 * some 200 as they usually are); the report says how many more there
 * are (tests/unit/send_dsn.c). */
#define DSN_MAX 65536
#define DSN_HEADERS_MAX (16 * 1024)

struct dsn_fail {
	const char *addr;
	size_t len;
	const char *why;
	size_t why_len;
	int expired; /* gave up after the queue lifetime, not a permanent failure */
};

struct dsn {
	const char *me;          /* control/me */
	const char *qid;         /* the original's queue id */
	unsigned long long arrival, now;
	const char *to;          /* the bounce's recipient */
	size_t to_len;
	const struct dsn_fail *f;
	size_t nf;
	const char *headers;     /* the original's header section, LF line ends */
	size_t hlen;
	int delayed;             /* a warning (Action: delayed, 4.x.x), not a bounce */
};

/* The whole message, LF line ends, at most DSN_MAX bytes (if hlen is at
 * most DSN_HEADERS_MAX and me a host name).  1 ok, 0 out of memory. */
int dsn_build(struct str *out, const struct dsn *d);
/* The Status for a failure: the first enhanced code (d.d.d, RFC 3463) in
 * why with its class forced to 5, else 5.4.7 if expired, else 5.0.0.
 * out must hold 16 bytes; returns the length. */
size_t dsn_status(const char *why, size_t n, int expired, char *out);
/* Length of the header section at the start of msg (up to and including
 * the blank line), cut at a line end to at most max bytes. */
size_t dsn_header_len(const char *msg, size_t n, size_t max);
#endif
