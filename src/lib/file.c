#include <errno.h>
#include <fcntl.h>
#include <stdio.h> /* rename(2) only */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <string.h>
#include <unistd.h>
#include "file.h"
#include "io.h"

int open_read(const char *path)
{
	return openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
}

int open_queue_file_above(const char *path, int min)
{
	int fd = openat(AT_FDCWD, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK), high;
	struct stat st;

	if (fd == -1)
		return -1;
	if (fstat(fd, &st) == -1) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_nlink != 1) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	/* the readers block on it as on any file (the flag is the open file's,
	 * shared with the duplicate) */
	if (fcntl(fd, F_SETFL, 0) == -1) {
		close(fd);
		return -1;
	}
	high = fcntl(fd, F_DUPFD_CLOEXEC, min);
	close(fd);
	return high;
}

int open_excl(const char *path, mode_t mode)
{
	return openat(AT_FDCWD, path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
}

int rename_noreplace(int from_dir, const char *from, int to_dir, const char *to)
{
	enum { NOREPLACE = 1 }; /* RENAME_NOREPLACE, a fixed number of the kernel's ABI */
	return (int)syscall(SYS_renameat2, from_dir, from, to_dir, to, NOREPLACE);
}

int open_append(const char *path, mode_t mode)
{
	return openat(AT_FDCWD, path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, mode);
}

int fsync_dir(const char *path)
{
	int fd = openat(AT_FDCWD, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r;

	if (fd == -1)
		return -1;
	r = fsync(fd);
	if (r == -1) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return close(fd);
}

int dir_lock(const char *path)
{
	int fd = openat(AT_FDCWD, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int e;

	if (fd == -1)
		return -1;
	while (flock(fd, LOCK_EX) == -1)
		if (errno != EINTR) {
			e = errno;
			close(fd);
			errno = e;
			return -1;
		}
	return fd;
}

/* file_replace, and with group >= 0 the file's group and mode set before
 * it is synced: created 0600, so no reader of the group sees it half
 * written, and none of another group ever sees it */
static int replace(const char *path, const char *tmp, const char *data, size_t n, mode_t mode, int durable,
                   long long group)
{
	int fd, e;

	if (unlink(tmp) == -1 && errno != ENOENT)
		return -1;
	fd = open_excl(tmp, group >= 0 ? 0600 : mode);
	if (fd == -1)
		return -1;
	if (write_all(fd, data, n) == -1 ||
	    (group >= 0 && (fchown(fd, (uid_t)-1, (gid_t)group) == -1 || fchmod(fd, mode) == -1)) ||
	    (durable && fsync(fd) == -1)) {
		e = errno;
		(void)close(fd); /* the error that counts is the one before */
		goto fail;
	}
	if (close(fd) == -1 || rename(tmp, path) == -1) {
		e = errno;
		goto fail;
	}
	return 0;
fail:
	(void)unlink(tmp);
	errno = e;
	return -1;
}

int file_replace(const char *path, const char *tmp, const char *data, size_t n, mode_t mode, int durable)
{
	return replace(path, tmp, data, n, mode, durable, -1);
}

int file_replace_shared(const char *path, const char *tmp, const char *data, size_t n, gid_t gid, mode_t mode)
{
	return replace(path, tmp, data, n, mode, 1, (long long)gid);
}

int open_emptied(const char *path, struct stat *st)
{
	/* O_NONBLOCK: a FIFO put in its place must not hang us */
	int fd = openat(AT_FDCWD, path, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	int e;

	if (fd == -1)
		return -1;
	if (fstat(fd, st) == -1)
		goto fail;
	if (!S_ISREG(st->st_mode) || st->st_nlink != 1) {
		errno = EPERM;
		goto fail;
	}
	/* an empty file (every pooled one) is left as it is: a truncate to
	 * the same size still dirties the inode */
	if ((st->st_size != 0 && ftruncate(fd, 0) == -1) || fcntl(fd, F_SETFL, 0) == -1)
		goto fail;
	return fd;
fail:
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

int read_fd(int fd, struct str *out, size_t max)
{
	out->len = 0;
	if (!str_ready(out, 4096))
		return -1;
	for (;;) {
		ssize_t r;
		if (out->cap - 1 == out->len && !str_readyplus(out, out->len))
			return -1;
		r = read_retry(fd, out->s + out->len, out->cap - 1 - out->len);
		if (r == -1)
			return -1;
		if (r == 0)
			break;
		out->len += (size_t)r;
		if (out->len > max) {
			errno = EFBIG;
			return -1;
		}
	}
	out->s[out->len] = 0;
	return 1;
}

int read_file(const char *path, struct str *out, size_t max)
{
	int fd = openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
	int r, e;

	if (fd == -1)
		return errno == ENOENT ? 0 : -1;
	r = read_fd(fd, out, max);
	e = errno;
	close(fd);
	errno = e;
	return r;
}

int path_join(struct str *out, const char *a, const char *b)
{
	out->len = 0;
	if (!str_cats(out, a))
		return 0;
	if (out->len && out->s[out->len - 1] != '/' && !str_catc(out, '/'))
		return 0;
	return str_cats(out, b);
}
