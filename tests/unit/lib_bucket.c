/* bucket_take (src/lib/bucket.c): control/submissionlimit's arithmetic. */
#include "check.h"
#include "bucket.h"

#define HOUR 3600000ULL

int main(void)
{
	struct bucket b = { 0, 0, 0 };
	int i, n;

	for (i = n = 0; i < 5; i++)
		n += bucket_take(&b, 3, HOUR, 1000000);
	CHECK(n == 3 && b.milli == 0 && b.at_ms == 1000000, "a new bucket is full: 3 of 5 taken at once");
	CHECK(!bucket_take(&b, 3, HOUR, 1000000 + HOUR / 3 - 1) && b.milli == 999,
	      "a third of an hour less a millisecond: 0.999 of a token, none to take");
	CHECK(bucket_take(&b, 3, HOUR, 1000000 + HOUR / 3) && b.milli == 0,
	      "... a millisecond on, one token filled and taken");
	for (i = n = 0; i < 1200; i++)
		n += bucket_take(&b, 3, HOUR, 1000000 + HOUR / 3 + 1000ULL * (unsigned)(i + 1));
	CHECK(n == 1 && b.milli == 0, "asked every second for 20 minutes: one token filled, no fraction lost");
	CHECK(bucket_take(&b, 3, HOUR, 1000000 + 10 * HOUR) && b.milli == 2000, "ten hours on: full (3), never more");
	b.milli = 500;
	b.at_ms = 100000;
	CHECK(!bucket_take(&b, 3, HOUR, b.at_ms - 5000) && b.milli == 500 && b.at_ms == 95000,
	      "a clock that went back fills nothing and takes nothing");
	b.milli = 0;
	b.at_ms = 1;
	CHECK(bucket_take(&b, ~0ULL, HOUR, 2) && b.milli == ~0ULL - 1000, "a limit past 2^64/1000: capped, not wrapped");
	b.milli = 0;
	b.at_ms = 1;
	CHECK(bucket_take(&b, 1000000000000ULL, HOUR, 1 + HOUR - 1), "a huge limit over most of an hour: no overflow");
	b.milli = 7000;
	b.at_ms = 10;
	CHECK(bucket_take(&b, 3, HOUR, 20) && b.milli == 2000, "more than the limit held (a lowered limit): cut to it");
	/* asked every millisecond, at limits whose thousandth is under and
	 * over a millisecond: exactly the limit's rate, no more */
	{
		static const unsigned long long limits[] = { 500, 1000, 2000, 3000, 5000, 100000 };
		size_t k;
		int exact = 1;
		for (k = 0; k < sizeof limits / sizeof limits[0]; k++) {
			unsigned long long t, got = 0, want = limits[k] * 600000ULL / HOUR;
			struct bucket e = { 0, 1000, 0 };
			for (t = 1; t <= 600000; t++)
				while (bucket_take(&e, limits[k], HOUR, 1000 + t))
					got++;
			if (got != want) {
				printf("# %llu an hour, every ms for 10 minutes: %llu taken, %llu due\n", limits[k], got, want);
				exact = 0;
			}
		}
		CHECK(exact, "asked every millisecond for 10 minutes at 500 to 100,000 an hour: exactly the rate");
	}
	return check_done();
}
