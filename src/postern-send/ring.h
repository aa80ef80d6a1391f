/* postern-send's run queues: rings of jobs, first in first out, each
 * entry counted in its message's `queued` (a message is freed only when no
 * queue names it).  tests/unit/send_ring.c. */
#ifndef POSTERN_SEND_RING_H
#define POSTERN_SEND_RING_H
#include <stddef.h>
#include "batch.h"

struct msg;

struct job {
	struct msg *m;
	size_t i;
	unsigned long long when; /* heap key */
	unsigned user;           /* in lwait: hash of the local user it routes to */
};

struct ring {
	struct job *a;
	size_t cap, head, len;
};

void ring_push(struct ring *, struct job);  /* dies when out of memory */
struct job ring_pop(struct ring *);          /* the ring must not be empty */
/* Takes out of q, in order, the entries among its first `scan` that take()
 * accepts (at most LOCAL_BATCH_MAX; take() returns 1 to take, 0 to leave,
 * -1 to stop the search), and keeps the others in their order.  Only the
 * entries before the last one taken move, so the cost is bounded by `scan`
 * however long the ring is.  Returns how many were taken. */
size_t ring_take(struct ring *q, size_t scan, int (*take)(const struct job *, void *), void *arg);
#endif
