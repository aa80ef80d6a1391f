/* A token bucket in whole thousandths, for limits such as "N an hour":
 * it holds at most N tokens, fills at N per period, and each use takes
 * one.  Pure, for the unit test; postern-smtpd's sendlimit.c keeps one
 * per login in a file. */
#ifndef POSTERN_BUCKET_H
#define POSTERN_BUCKET_H

struct bucket {
	unsigned long long milli;   /* tokens held, in thousandths */
	unsigned long long at_ms;   /* when that was so */
	unsigned long long rem;     /* what filled since, short of a thousandth: per * 1000 * ms mod period_ms */
};

/* The bucket at now_ms, filled for the time since at_ms exactly (the
 * part of a thousandth left over waits in rem; a clock that went back
 * fills nothing), then one token taken if there is one: 1 taken, 0 none
 * left (the bucket is still brought to now).  A bucket of at_ms 0 is a
 * new one: full.  per and period_ms must not be 0. */
int bucket_take(struct bucket *, unsigned long long per, unsigned long long period_ms, unsigned long long now_ms);
#endif
