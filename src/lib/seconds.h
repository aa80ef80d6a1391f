/* CLOCK_MONOTONIC seconds and milliseconds (each dies 111 if the clock is
 * unreadable).  src/lib/io.c keeps a copy of its own, so that the fuzz
 * targets built from it need neither this nor die.c. */
#ifndef POSTERN_SECONDS_H
#define POSTERN_SECONDS_H
#include <time.h>
time_t seconds_now(void);
long long monotonic_ms(void);
#endif
