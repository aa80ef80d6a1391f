/* A tiny test harness: each CHECK prints one TAP line ("ok"/"not ok"), and
 * check_done() returns the exit status.  tests/run.sh adds up the lines. */
#ifndef POSTERN_CHECK_H
#define POSTERN_CHECK_H
#include <stdio.h>
static int check_failed_, check_count_;
#define CHECK(cond, name) do { check_count_++; if (cond) printf("ok %d - %s\n", check_count_, name); \
	else { check_failed_++; printf("not ok %d - %s (%s:%d: %s)\n", check_count_, name, __FILE__, __LINE__, #cond); } } while (0)
static inline int check_done(void) { fflush(stdout); return check_failed_ ? 1 : 0; }
#endif
