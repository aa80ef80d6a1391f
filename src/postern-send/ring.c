/* postern-send's FIFO queues of jobs (src/postern-send/ring.h). */
#include <stdint.h>
#include <stdlib.h>
#include "ring.h"
#include "send.h"
#include "die.h"

void ring_push(struct ring *q, struct job j)
{
	if (q->len == q->cap) {
		size_t ncap = q->cap ? q->cap * 2 : 1024, k;
		struct job *n;
		if (ncap > SIZE_MAX / sizeof *n || !(n = malloc(ncap * sizeof *n)))
			die_nomem();
		for (k = 0; k < q->len; k++)
			n[k] = q->a[(q->head + k) % q->cap];
		free(q->a);
		q->a = n;
		q->cap = ncap;
		q->head = 0;
	}
	q->a[(q->head + q->len) % q->cap] = j;
	q->len++;
	j.m->queued++;
}

struct job ring_pop(struct ring *q)
{
	struct job j;

	if (!q->len) /* a caller's bug: better a clean restart than a wild read */
		die(111, "fatal: internal bug: a job taken from an empty queue");
	j = q->a[q->head];
	q->head = (q->head + 1) % q->cap;
	q->len--;
	j.m->queued--;
	return j;
}

/* The kept entries before the last one taken move toward it, from the
 * back, so each moves once and nothing after it moves at all. */
size_t ring_take(struct ring *q, size_t scan, int (*take)(const struct job *, void *), void *arg)
{
	size_t taken[LOCAL_BATCH_MAX], n = 0, r, d, k;

	if (scan > q->len)
		scan = q->len;
	for (r = 0; r < scan && n < LOCAL_BATCH_MAX; r++) {
		int t = take(&q->a[(q->head + r) % q->cap], arg);
		if (t < 0)
			break;
		if (t == 1)
			taken[n++] = r;
	}
	if (n == 0)
		return 0;
	d = taken[n - 1];
	k = n;
	for (r = taken[n - 1] + 1; r-- > 0;) {
		if (k && r == taken[k - 1]) {
			q->a[(q->head + r) % q->cap].m->queued--;
			k--;
			continue;
		}
		q->a[(q->head + d) % q->cap] = q->a[(q->head + r) % q->cap];
		d--;
	}
	q->head = (q->head + n) % q->cap;
	q->len -= n;
	return n;
}

