#ifndef POSTERN_QSTAT_QSTAT_H
#define POSTERN_QSTAT_QSTAT_H
#include <stddef.h>
#include "str.h"

/* Appends b for a terminal: printable ASCII and printable UTF-8 as they are,
 * every other byte (escape sequences included) as \xNN. */
int cat_safe(struct str *out, const char *b, size_t n);

/* info.c: the scheduler's state (queue/info/ID, doc/queue.md) for recipient
 * i, as text appended to out: "pending", "delivered", "failed: why", ... */
enum { ST_PENDING, ST_DONE, ST_FAILED };
struct rcpt_state {
	int st;
	unsigned long long attempts, next;
	const char *why;
	size_t why_len;
};
/* Applies the lines of buf to r[0..n-1]; malformed lines are skipped. */
void info_apply(const char *buf, size_t len, struct rcpt_state *r, size_t n);
#endif
