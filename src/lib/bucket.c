/* bucket.h */
#include "bucket.h"

int bucket_take(struct bucket *b, unsigned long long per, unsigned long long period_ms, unsigned long long now_ms)
{
	unsigned long long cap = per > ~0ULL / 1000 ? ~0ULL : per * 1000;

	if (b->milli > cap)
		b->milli = cap; /* a limit lowered since */
	if (b->rem >= period_ms)
		b->rem = 0;     /* not what this bucket could hold */
	if (b->at_ms == 0) {
		b->milli = cap;
		b->rem = 0;
	} else if (now_ms > b->at_ms) {
		unsigned long long dt = now_ms - b->at_ms, add;
		/* per * 1000 thousandths a period, counted exactly: a fraction
		 * of a thousandth is kept for the next time, never lost and
		 * never counted twice, however often the bucket is asked */
		if (dt < period_ms && cap != ~0ULL && dt <= (~0ULL - b->rem) / cap) {
			unsigned long long total = b->rem + cap * dt;
			add = total / period_ms;
			b->rem = total % period_ms;
		} else {
			add = cap;
			b->rem = 0;
		}
		b->milli = add >= cap - b->milli ? cap : b->milli + add;
		if (b->milli == cap)
			b->rem = 0; /* full: nothing saved up beyond it */
	}
	b->at_ms = now_ms; /* a clock that went back: from now on */
	if (b->milli < 1000)
		return 0;
	b->milli -= 1000;
	return 1;
}
