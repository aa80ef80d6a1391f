/* The files of a day's directory are postern-remote's, written while it
 * talks to hostile servers: each is opened without following a symlink,
 * without waiting on a FIFO, and read only if it is a regular file, at
 * most max bytes of it. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include "reporter.h"
#include "io.h"

int read_hostile(int dirfd, const char *name, struct str *out, size_t max, int *cut)
{
	struct stat st;
	int fd, e;
	size_t want;

	out->len = 0;
	*cut = 0;
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1)
		return errno == ENOENT ? 0 : -1;
	if (fstat(fd, &st) == -1)
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		goto fail;
	}
	want = (unsigned long long)st.st_size > max ? max : (size_t)st.st_size;
	*cut = (unsigned long long)st.st_size > max;
	if (!str_ready(out, want + 1))
		goto fail;
	while (out->len < want) {
		ssize_t r = read_retry(fd, out->s + out->len, want - out->len);
		if (r == -1)
			goto fail;
		if (r == 0)
			break; /* it shrank: what there was */
		out->len += (size_t)r;
	}
	out->s[out->len] = 0;
	close(fd);
	return 1;
fail:
	e = errno;
	close(fd);
	errno = e;
	return -1;
}
