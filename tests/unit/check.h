/* A tiny test harness: each CHECK prints one TAP line ("ok"/"not ok"), and
 * check_done() returns the exit status.  tests/run.sh adds up the lines. */
#ifndef POSTERN_CHECK_H
#define POSTERN_CHECK_H
#include <stdio.h>
static int check_failed_, check_count_;
#define CHECK(cond, name) do { check_count_++; if (cond) printf("ok %d - %s\n", check_count_, name); \
	else { check_failed_++; printf("not ok %d - %s (%s:%d: %s)\n", check_count_, name, __FILE__, __LINE__, #cond); } } while (0)
static inline int check_done(void) { fflush(stdout); return check_failed_ ? 1 : 0; }
/* A fixed-seed xorshift generator, so a random test fails the same way
 * every run. */
static unsigned long long check_seed_ = 88172645463325252ULL;
static inline unsigned long long rnd(void)
{
	check_seed_ ^= check_seed_ << 13;
	check_seed_ ^= check_seed_ >> 7;
	check_seed_ ^= check_seed_ << 17;
	return check_seed_;
}
/* Sets l to the NUL-separated list of a and, unless 0, b: the form
 * control_lines gives a control file's lines in. */
#include "str.h"
static inline void check_list(struct str *l, const char *a, const char *b)
{
	if (!str_copys(l, a) || !str_catz(l) || (b && (!str_cats(l, b) || !str_catz(l))))
		printf("# check_list: out of memory\n");
}
#endif
