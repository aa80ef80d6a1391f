/* Seconds that never go back: the bound on a request's wait, the length
 * of a session and the second of a rate limit must not jump with the wall
 * clock. */
#include <time.h>
#include "seconds.h"
#include "die.h"

time_t seconds_now(void)
{
	struct timespec t;
	if (clock_gettime(CLOCK_MONOTONIC, &t) == -1)
		die_sys(111, "fatal: unable to read the clock");
	return t.tv_sec;
}

long long monotonic_ms(void)
{
	struct timespec t;
	if (clock_gettime(CLOCK_MONOTONIC, &t) == -1)
		die_sys(111, "fatal: unable to read the clock");
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}
