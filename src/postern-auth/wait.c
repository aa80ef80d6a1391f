/* Bounded waits: postern-auth serves one request at a time, so every wait
 * for a peer has an end, or one silent peer would stop every login. */
#include <errno.h>
#include <poll.h>
#include "auth.h"
#include "seconds.h"

int wait_readable(int fd, int ms)
{
	long long end = monotonic_ms() + ms, left;
	struct pollfd p = { fd, POLLIN, 0 };

	while ((left = end - monotonic_ms()) > 0) {
		int r = poll(&p, 1, (int)left);
		if (r > 0)
			return 1;
		if (r == -1 && errno != EINTR)
			return -1;
	}
	return 0;
}
