#include <errno.h>
#include <poll.h>
#include <limits.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "io.h"
#include "fmt.h"

void io_init(struct io *io, int fd, char *buf, size_t cap)
{
	io->fd = fd;
	io->buf = buf;
	io->cap = cap;
	io->pos = io->len = 0;
	io->timeout_ms = 0;
	io->deadline_ms = 0;
}

static long long now_ms(void)
{
	struct timespec t;
	if (clock_gettime(CLOCK_MONOTONIC, &t) == -1)
		return 0; /* cannot fail for CLOCK_MONOTONIC */
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

void io_deadline(struct io *io, unsigned long long ms)
{
	if (ms > (unsigned long long)LLONG_MAX / 2)
		ms = (unsigned long long)LLONG_MAX / 2;
	io->deadline_ms = ms ? now_ms() + (long long)ms : 0;
}

/* Waits for the fd as long as the io's timeout allows, and no longer than
 * its deadline leaves.  With neither, it returns at once (the read or
 * write itself waits), unless again is set: a non-blocking fd that had
 * nothing after all is then waited for without a limit, not spun on. */
static int wait_limited(const struct io *io, short events, int again)
{
	struct pollfd p;
	int r, timeout_ms = io->timeout_ms;

	if (io->deadline_ms) {
		long long left = io->deadline_ms - now_ms();
		if (left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (timeout_ms <= 0 || left < timeout_ms)
			timeout_ms = left > INT_MAX ? INT_MAX : (int)left;
	}
	if (timeout_ms <= 0) {
		if (!again)
			return 0;
		timeout_ms = -1;
	}
	p.fd = io->fd;
	p.events = events;
	p.revents = 0;
	do
		r = poll(&p, 1, timeout_ms);
	while (r == -1 && errno == EINTR);
	if (r == -1)
		return -1;
	if (r == 0) {
		errno = ETIMEDOUT;
		return -1;
	}
	return 0;
}

static int wait_for(const struct io *io, short events) { return wait_limited(io, events, 0); }

/* A non-blocking fd had no room after all: waits for it as wait_for does,
 * and without a timeout for as long as it takes, rather than spin. */
static int wait_room(const struct io *io)
{
	struct pollfd p;
	int r;

	if (io->timeout_ms > 0 || io->deadline_ms)
		return wait_for(io, POLLOUT);
	p.fd = io->fd;
	p.events = POLLOUT;
	p.revents = 0;
	do
		r = poll(&p, 1, -1);
	while (r == -1 && errno == EINTR);
	return r == -1 ? -1 : 0;
}

ssize_t read_retry(int fd, char *b, size_t n)
{
	ssize_t r;
	do
		r = read(fd, b, n);
	while (r == -1 && errno == EINTR);
	return r;
}

int write_all(int fd, const char *b, size_t n)
{
	while (n) {
		ssize_t w = write(fd, b, n);
		if (w == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

size_t io_buffered(const struct io *io) { return io->len - io->pos; }

ssize_t io_fill(struct io *io)
{
	ssize_t r;

	if (io->pos && io->pos == io->len)
		io->pos = io->len = 0;
	if (io->pos) {
		memmove(io->buf, io->buf + io->pos, io->len - io->pos);
		io->len -= io->pos;
		io->pos = 0;
	}
	if (io->len == io->cap) {
		errno = ENOBUFS;
		return -1;
	}
	/* A non-blocking fd (one socket shared by a reader and a writer
	 * that wants its writes bounded) can be readable and then have
	 * nothing after all: wait again, within the same limits. */
	for (int again = 0;; again = 1) {
		if (wait_limited(io, POLLIN, again) == -1)
			return -1;
		r = read_retry(io->fd, io->buf + io->len, io->cap - io->len);
		if (r != -1 || errno != EAGAIN)
			break;
	}
	if (r > 0)
		io->len += (size_t)r;
	return r;
}

ssize_t io_read(struct io *io, char *out, size_t n)
{
	size_t have;

	if (!n)
		return 0;
	if (io->pos == io->len) {
		ssize_t r;
		/* a large read goes straight to the caller's memory */
		if (n >= io->cap) {
			for (int again = 0;; again = 1) {
				if (wait_limited(io, POLLIN, again) == -1)
					return -1;
				r = read_retry(io->fd, out, n);
				if (r != -1 || errno != EAGAIN)
					return r;
			}
		}
		r = io_fill(io);
		if (r <= 0)
			return r;
	}
	have = io->len - io->pos;
	if (have > n)
		have = n;
	memcpy(out, io->buf + io->pos, have);
	io->pos += have;
	return (ssize_t)have;
}

int io_getline(struct io *io, struct str *line, char delim, size_t max)
{
	for (;;) {
		size_t avail = io->len - io->pos;
		size_t room, take;
		char *hit;

		if (avail) {
			room = line->len < max ? max - line->len : 0;
			if (!room) {
				errno = E2BIG;
				return -2;
			}
			take = avail < room ? avail : room;
			hit = memchr(io->buf + io->pos, delim, take);
			if (hit)
				take = (size_t)(hit - (io->buf + io->pos)) + 1;
			if (!str_catb(line, io->buf + io->pos, take))
				return -1;
			io->pos += take;
			if (hit)
				return 1;
			continue;
		}
		{
			ssize_t r = io_fill(io);
			if (r == 0)
				return 0;
			if (r < 0)
				return -1;
		}
	}
}

int io_flush(struct io *io)
{
	size_t done = 0;

	while (done < io->len) {
		ssize_t w;
		if (wait_for(io, POLLOUT) == -1)
			return -1;
		w = write(io->fd, io->buf + done, io->len - done);
		if (w == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN && wait_room(io) == 0)
				continue;
			return -1;
		}
		done += (size_t)w;
	}
	io->len = 0;
	return 0;
}

int io_put(struct io *io, const char *b, size_t n)
{
	while (n) {
		size_t room = io->cap - io->len;
		if (!room) {
			if (io_flush(io) == -1)
				return -1;
			continue;
		}
		if (room > n)
			room = n;
		memcpy(io->buf + io->len, b, room);
		io->len += room;
		b += room;
		n -= room;
	}
	return 0;
}

int io_puts(struct io *io, const char *s) { return io_put(io, s, strlen(s)); }

int io_putu(struct io *io, unsigned long long u)
{
	char buf[FMT_ULONG];
	return io_put(io, buf, fmt_ulong(buf, u));
}
