#include <errno.h>
#include <unistd.h>
#include "copy.h"
#include "io.h"

int copy_message(int fd, const char *pre, size_t prelen, int msgfd)
{
	char buf[65536];
	off_t off = 0;

	if (write_all(fd, pre, prelen) == -1)
		return -1;
	for (;;) {
		ssize_t r;
		do
			r = pread(msgfd, buf, sizeof buf, off);
		while (r == -1 && errno == EINTR);
		if (r == -1)
			return -2;
		if (r == 0)
			return 0;
		if (write_all(fd, buf, (size_t)r) == -1)
			return -1;
		off += r;
	}
}
