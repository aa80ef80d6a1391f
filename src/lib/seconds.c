/* Seconds that never go back: the bound on a request's wait and the
 * length of a session must not jump with the wall clock. */
#include <time.h>
#include "pspawn.h"
#include "die.h"

time_t seconds_now(void)
{
	struct timespec t;
	if (clock_gettime(CLOCK_MONOTONIC, &t) == -1)
		die_sys(111, "fatal: unable to read the clock");
	return t.tv_sec;
}
