/* RFC 3464 delivery status notifications, built from what postern-send
 * knows: the envelope and its DSN parameters, the failure reasons and
 * delivery texts, and the original's header section (or all of it).
 * Pure, so tests/unit/send_dsn.c can check the format. */
#ifndef POSTERN_SEND_DSN_H
#define POSTERN_SEND_DSN_H
#include <stddef.h>
#include "str.h"

/* A report is at most DSN_MAX bytes: postern-queue takes that much over
 * control/databytes (its TRACE_ALLOWANCE), so a bounce or a warning is
 * never refused for its size.  The original's headers are quoted up to
 * DSN_HEADERS_MAX bytes, or the whole message up to DSN_FULL_MAX
 * (RET=FULL), and the recipients are detailed as far as the rest allows
 * (11 when every address, reason and ORCPT is as long as can be, 2 if
 * the whole message is returned too, some 150 as they usually are); the
 * report says how many more there are (tests/unit/send_dsn.c). */
#define DSN_MAX 65536
#define DSN_HEADERS_MAX (16 * 1024)
#define DSN_FULL_MAX (48 * 1024)

/* What a report says of a recipient (RFC 3464 2.3.3); in a warning
 * (struct dsn's delayed) every one is "delayed".  DSN_EXPANDED: sent on
 * here to several destinations (doc/dsn.md, "Forwards").  DSN_ACTIONS
 * counts them, for arrays indexed by action. */
enum dsn_action { DSN_FAILED, DSN_DELIVERED, DSN_RELAYED, DSN_EXPANDED, DSN_ACTIONS };

struct dsn_rcpt {
	const char *addr;
	size_t len;
	const char *why;  /* the failure's reason, or the delivery's text */
	size_t why_len;
	int expired;      /* gave up after the queue lifetime, not a permanent failure */
	int action;       /* enum dsn_action */
	const char *orcpt; /* ORCPT as given, "type;xtext" (doc/dsn.md) */
	size_t orcpt_len;  /* 0: none */
};

struct dsn {
	const char *me;          /* control/me */
	const char *qid;         /* the original's queue id */
	unsigned long long arrival, now;
	const char *to;          /* the bounce's recipient */
	size_t to_len;
	const struct dsn_rcpt *r; /* failures first: when not all fit, they are the ones listed */
	size_t nr;
	const char *envid;       /* ENVID as given, xtext */
	size_t envid_len;        /* 0: none */
	const char *headers;     /* the original's header section, or all of it if full; LF line ends */
	size_t hlen;
	int full;                /* headers is the whole message (RET=FULL): message/rfc822 */
	int too_large;           /* RET=FULL was asked, but the message is over DSN_FULL_MAX */
	int delayed;             /* a warning (Action: delayed, 4.x.x), not a bounce */
};

/* The whole message, LF line ends, at most DSN_MAX bytes (if hlen is at
 * most DSN_FULL_MAX and me a host name).  The subject says what it is:
 * a warning, a bounce (any recipient failed), or else a report of
 * successes.  1 ok, 0 out of memory. */
int dsn_build(struct str *out, const struct dsn *d);
/* The Status for a failure: the first enhanced code (d.d.d, RFC 3463) in
 * why with its class forced to 5, else 5.4.7 if expired, else 5.0.0.
 * out must hold 16 bytes; returns the length. */
size_t dsn_status(const char *why, size_t n, int expired, char *out);
/* Length of the header section at the start of msg (up to and including
 * the blank line), cut at a line end to at most max bytes. */
size_t dsn_header_len(const char *msg, size_t n, size_t max);
/* Appends an ENVID or ORCPT address (xtext) as a report shows it: decoded
 * (RFC 3461 6.3), unless that gives anything but printable ASCII; then
 * as given. */
int dsn_cat_xtext(struct str *out, const char *s, size_t n);
#endif
