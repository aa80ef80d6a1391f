#include <errno.h>
#include <unistd.h>
#include "drain.h"

int drain_bounded(int *fd, struct str *out, size_t max)
{
	char buf[8192];

	while (*fd != -1) {
		ssize_t r = read(*fd, buf, sizeof buf);
		size_t take;
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (r <= 0) {
			close(*fd);
			*fd = -1;
			return 0;
		}
		take = out->len < max ? max - out->len : 0;
		if (take > (size_t)r)
			take = (size_t)r;
		if (take && !str_catb(out, buf, take))
			return -1;
	}
	return 0;
}
