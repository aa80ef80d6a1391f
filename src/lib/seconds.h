/* CLOCK_MONOTONIC seconds (dies 111 if the clock is unreadable). */
#ifndef POSTERN_SECONDS_H
#define POSTERN_SECONDS_H
#include <time.h>
time_t seconds_now(void);
#endif
