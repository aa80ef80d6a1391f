/* postern-send's delivery state for one message: queue/info/QID, a text
 * file of one-line records, appended, and rewritten compacted when it
 * grows (doc/queue.md, "scheduler state").  postern-send writes and reads
 * it, postern-qstat reads it with the same parser.  Pure functions, so
 * tests/unit/send_state.c checks every rule. */
#ifndef POSTERN_INFOSTATE_H
#define POSTERN_INFOSTATE_H
#include <stddef.h>
#include "str.h"

#define REASON_MAX 1000 /* bytes of a failure reason kept */

/* RS_RELAYED: delivered to a server that does not speak DSN, which was
 * asked for what it cannot do (NOTIFY, ORCPT): the request ends there,
 * and a report may be due for it (doc/dsn.md) */
/* RS_HANDED: delivered to a server that speaks DSN and took on the
 * recipient's request, or forwarded here to one address with the
 * request: any report is whoever delivers it.  RS_EXPANDED: postern-local
 * sent it on to several destinations (RFC 3461 5.2.7.3, doc/dsn.md), of
 * which at least one a forward: a success report says "expanded", and the
 * copies report on themselves.  RS_DONE is then a delivery here
 * (postern-local), or elsewhere for a recipient that asked nothing of
 * DSN. */
enum rstate_kind { RS_PENDING, RS_DONE, RS_FAILED, RS_RELAYED, RS_HANDED, RS_EXPANDED };

struct rstate {
	enum rstate_kind st;
	unsigned long long attempts; /* temporary failures so far */
	unsigned long long next;     /* unix time of the next attempt, 0: at once */
	const char *why;             /* last reason, pointing into the parsed buffer */
	size_t why_len;
};

/* One record: kind is K, R, H, X, D, Z (for recipient i) or B, W (for the message). */
struct srec {
	char kind;
	size_t i;
	unsigned long long attempts, next; /* Z */
	const char *why;                   /* D, Z: the reason, pointing into the line */
	size_t why_len;
};

/* The record of the line at buf[*pos], which it moves past the line:
 * 1 a record in *rec, 0 a malformed line (or an index >= nrcpt), -1 no
 * whole line left (what remains, if anything, is torn).  So an info file
 * can be read a piece at a time. */
int state_next(const char *buf, size_t n, size_t *pos, struct srec *rec, size_t nrcpt);
/* What the record says, applied to r[0..]: a later record for a recipient
 * overrides an earlier one; B sets bit 1 of *bounced, W bit 2. */
void state_apply(const struct srec *rec, struct rstate *r, int *bounced);

/* Applies the records of buf (n bytes) to r[0..nrcpt-1], which the caller
 * has set to RS_PENDING.  A torn last line (no '\n') is ignored, as is a
 * malformed line or one naming a recipient index >= nrcpt; the count of
 * such lines is returned so the caller can log them.  A `B` record sets
 * bit 1 of *bounced (the bounce is queued), a `W` record bit 2 (the delay
 * warning is queued). */
size_t state_parse(const char *buf, size_t n, struct rstate *r, size_t nrcpt, int *bounced);

/* Each appends one whole record, newline included.  Reasons are cut to
 * REASON_MAX bytes and control bytes become spaces, so a reason can never
 * start a new record.  1 ok, 0 out of memory. */
int state_line_K(struct str *out, size_t i);
int state_line_R(struct str *out, size_t i);
int state_line_H(struct str *out, size_t i);
int state_line_X(struct str *out, size_t i);
int state_line_D(struct str *out, size_t i, const char *why, size_t n);
int state_line_Z(struct str *out, size_t i, unsigned long long attempts, unsigned long long next,
                 const char *why, size_t n);
int state_line_B(struct str *out);
/* The one record a recipient's state comes down to, what a compacted
 * info/QID holds for it: K, R, H, X, D, Z, or nothing for a fresh one. */
int state_line(struct str *out, size_t i, const struct rstate *r);
int state_line_W(struct str *out);

/* Appends why to out with control bytes replaced by spaces, at most REASON_MAX bytes. */
int state_reason(struct str *out, const char *why, size_t n);

/* Delay before attempt attempts+1 after attempts temporary failures:
 * min, 2*min, 4*min, ... capped at max (and at least 1 second). */
unsigned long long state_backoff(unsigned long long attempts, unsigned long long min,
                                 unsigned long long max);
#endif
