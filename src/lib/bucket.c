/* bucket.h */
#include "bucket.h"

int bucket_take(struct bucket *b, unsigned long long per, unsigned long long period_ms, unsigned long long now_ms)
{
	unsigned long long cap = per > ~0ULL / 1000 ? ~0ULL : per * 1000;

	if (b->milli > cap)
		b->milli = cap; /* a limit lowered since */
	if (b->at_ms == 0 || now_ms < b->at_ms) {
		/* new: full; a clock that went back: nothing filled, from now on */
		if (b->at_ms == 0)
			b->milli = cap;
		b->at_ms = now_ms;
	} else {
		unsigned long long dt = now_ms - b->at_ms, add;
		if (dt < period_ms && per <= ~0ULL / 1000 / (dt ? dt : 1)) {
			/* per * 1000 thousandths a period; the clock moves on by
			 * the time those filled took, so that the fraction of a
			 * thousandth left is not lost however often it is asked */
			add = per * 1000 * dt / period_ms;
			b->at_ms += add * period_ms / (per * 1000);
		} else {
			add = cap;
			b->at_ms = now_ms;
		}
		b->milli = add >= cap - b->milli ? cap : b->milli + add;
		if (b->milli == cap)
			b->at_ms = now_ms; /* full: no time saved up beyond it */
	}
	if (b->milli < 1000)
		return 0;
	b->milli -= 1000;
	return 1;
}
