/* postern-send's run queues (src/postern-send/ring.c): pushes, pops and
 * ring_take against a plain array doing the same, over many random rounds,
 * so the ring's head wraps around and its array grows; every message's
 * `queued` count must match the entries that name it. */
#include <string.h>
#include "check.h"
#include "postern-send/ring.c"

#define MSGS 8
#define MODEL_MAX 20000

static struct msg msgs[MSGS];
static struct job model[MODEL_MAX];
static size_t mlen;

/* take() for the test: the entries of one message, up to a limit, and a
 * refusal to go on after `stop` entries looked at */
struct want {
	struct msg *m;
	size_t looked, stop, limit, got;
	struct job got_jobs[LOCAL_BATCH_MAX];
};

static int take(const struct job *j, void *arg)
{
	struct want *w = arg;
	if (w->looked++ == w->stop)
		return -1;
	if (j->m != w->m || w->got == w->limit)
		return 0;
	w->got_jobs[w->got++] = *j;
	return 1;
}

static int same(const struct ring *q)
{
	size_t k, count[MSGS] = { 0 };
	if (q->len != mlen)
		return 0;
	for (k = 0; k < mlen; k++) {
		const struct job *a = &q->a[(q->head + k) % q->cap];
		if (a->m != model[k].m || a->i != model[k].i)
			return 0;
		count[a->m - msgs]++;
	}
	for (k = 0; k < MSGS; k++)
		if (msgs[k].queued != count[k])
			return 0;
	return 1;
}

int main(void)
{
	struct ring q = { 0, 0, 0, 0 };
	size_t round, next_i = 0, takes = 0, taken = 0, wraps = 0, bad = 0;

	for (round = 0; round < 200000 && !bad; round++) {
		/* first a long queue (the array grows), then a mix around it */
		unsigned op = round < 3000 ? 0 : (unsigned)(rnd() % 10);
		size_t oldhead = q.head;
		if (op < 6 && mlen < MODEL_MAX) {
			struct job j = { msgs + rnd() % MSGS, next_i++, 0, 0 };
			ring_push(&q, j);
			model[mlen++] = j;
		} else if (op < 8 && mlen) {
			struct job j = ring_pop(&q);
			if (j.m != model[0].m || j.i != model[0].i)
				bad++;
			memmove(model, model + 1, --mlen * sizeof *model);
		} else if (mlen) {
			struct want w = { msgs + rnd() % MSGS, 0, (size_t)(rnd() % 300), (size_t)(rnd() % 40), 0, { { 0 } } };
			size_t scan = (size_t)(rnd() % 200), k, n, keep = 0, lim = scan < mlen ? scan : mlen;
			struct job out[LOCAL_BATCH_MAX];
			size_t nout = 0, looked = 0;
			struct want copy = w;
			/* the model: the same walk, on the plain array */
			for (k = 0; k < mlen; k++) {
				int t = 0;
				if (k < lim && nout < LOCAL_BATCH_MAX && looked != (size_t)-1) {
					if (looked++ == copy.stop)
						looked = (size_t)-1;
					else if (model[k].m == copy.m && copy.got < copy.limit) {
						copy.got++;
						t = 1;
					}
				}
				if (t)
					out[nout++] = model[k];
				else
					model[keep++] = model[k];
			}
			mlen = keep;
			n = ring_take(&q, scan, take, &w);
			if (n != nout || n != w.got)
				bad++;
			for (k = 0; k < n && k < nout; k++)
				if (w.got_jobs[k].m != out[k].m || w.got_jobs[k].i != out[k].i)
					bad++;
			takes++;
			taken += n;
		}
		if (q.head < oldhead)
			wraps++;
		if (!same(&q))
			bad++;
	}
	CHECK(bad == 0, "ring and plain array agree after every operation (order and queued counts)");
	CHECK(wraps > 10, "the head wrapped around the array");
	CHECK(q.cap > 1024, "the array grew");
	CHECK(takes > 1000 && taken > 1000, "ring_take took entries out of the middle many times");
	while (q.len)
		(void)ring_pop(&q);
	{
		size_t k, zero = 1;
		for (k = 0; k < MSGS; k++)
			zero &= msgs[k].queued == 0;
		CHECK(zero, "every queued count back to 0 when the ring is empty");
	}
	free(q.a);
	return check_done();
}
