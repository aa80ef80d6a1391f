/* Bounded waits: postern-auth serves one request at a time, so every wait
 * for a peer has an end, or one silent peer would stop every login. */
#include <errno.h>
#include <poll.h>
#include <time.h>
#include "auth.h"
#include "die.h"

long long now_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		die_sys(111, "fatal: unable to read the clock");
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int wait_readable(int fd, int ms)
{
	long long end = now_ms() + ms, left;
	struct pollfd p = { fd, POLLIN, 0 };

	while ((left = end - now_ms()) > 0) {
		int r = poll(&p, 1, (int)left);
		if (r > 0)
			return 1;
		if (r == -1 && errno != EINTR)
			return -1;
	}
	return 0;
}
