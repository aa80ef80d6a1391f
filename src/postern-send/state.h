/* postern-send's delivery state for one message: queue/info/QID, an
 * append-only text file of one-line records (doc/queue.md, "scheduler
 * state").  Pure functions, so tests/unit/send_state.c checks every rule. */
#ifndef POSTERN_SEND_STATE_H
#define POSTERN_SEND_STATE_H
#include <stddef.h>
#include "str.h"

#define STATE_MAX (16 * 1024 * 1024) /* an info file larger than this is refused */
#define REASON_MAX 1000              /* bytes of a failure reason kept */

enum rstate_kind { RS_PENDING, RS_DONE, RS_FAILED };

struct rstate {
	enum rstate_kind st;
	unsigned long long attempts; /* temporary failures so far */
	unsigned long long next;     /* unix time of the next attempt, 0: at once */
	const char *why;             /* last reason, pointing into the parsed buffer */
	size_t why_len;
};

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
int state_line_D(struct str *out, size_t i, const char *why, size_t n);
int state_line_Z(struct str *out, size_t i, unsigned long long attempts, unsigned long long next,
                 const char *why, size_t n);
int state_line_B(struct str *out);
int state_line_W(struct str *out);

/* Appends why to out with control bytes replaced by spaces, at most REASON_MAX bytes. */
int state_reason(struct str *out, const char *why, size_t n);

/* Delay before attempt attempts+1 after attempts temporary failures:
 * min, 2*min, 4*min, ... capped at max (and at least 1 second). */
unsigned long long state_backoff(unsigned long long attempts, unsigned long long min,
                                 unsigned long long max);
#endif
