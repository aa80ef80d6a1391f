#include <errno.h>
#include <unistd.h>
#include "copy.h"
#include "io.h"

/* The kernel copies file to file itself (copy_file_range), without the
 * message passing through this process twice; into a pipe (forward,
 * program), or where the kernel cannot, it is read and written.
 * 1 all copied; 0 nothing copied, fall back; -1 failed (errno set). */
static int copy_in_kernel(int fd, int msgfd)
{
	off_t off = 0;

	for (;;) {
		ssize_t r = copy_file_range(msgfd, &off, fd, 0, 1 << 30, 0);
		if (r > 0)
			continue;
		if (r == 0)
			return 1;
		if (errno == EINTR)
			continue;
		if (off == 0 && (errno == EINVAL || errno == EXDEV || errno == ENOSYS || errno == EOPNOTSUPP ||
		                 errno == EBADF))
			return 0;
		return -1; /* which side failed is not known: the write's is likelier (ENOSPC, EDQUOT) */
	}
}

/* Read and written through a buffer outside the stack: 64 KB of stack
 * frame would be touched page by page at every call (the compiler's stack
 * clash probes), 16 page faults for each delivery, even the ones the
 * kernel copies. */
static int copy_by_hand(int fd, int msgfd)
{
	static char buf[65536];
	off_t off = 0;

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

int copy_message(int fd, const char *pre, size_t prelen, int msgfd)
{
	int k;

	if (write_all(fd, pre, prelen) == -1)
		return -1;
	if ((k = copy_in_kernel(fd, msgfd)) != 0)
		return k == 1 ? 0 : k;
	return copy_by_hand(fd, msgfd);
}
