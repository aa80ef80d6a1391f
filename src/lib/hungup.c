#include <poll.h>
#include "hungup.h"

int hung_up(int fd)
{
	struct pollfd p = { fd, POLLRDHUP, 0 };
	int r = poll(&p, 1, 0);

	if (r == -1)
		return -1;
	return r == 1 && (p.revents & (POLLHUP | POLLRDHUP | POLLERR | POLLNVAL)) != 0;
}
