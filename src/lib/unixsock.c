#include <errno.h>
#include <poll.h>
#include <stdio.h> /* rename */
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>
#include "unixsock.h"

static int address(struct sockaddr_un *sa, const char *path)
{
	size_t n = strlen(path);
	memset(sa, 0, sizeof *sa);
	sa->sun_family = AF_UNIX;
	if (n >= sizeof sa->sun_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sa->sun_path, path, n + 1);
	return 0;
}

/* Bound and listening under path.new first, then renamed over path: a
 * client finds either the socket before (a stale one refuses it, as when
 * the service is down) or one that listens, never none between an unlink
 * and a bind, nor one bound and not yet listening (ECONNREFUSED), which a
 * service restarted under load showed for milliseconds. */
int unix_listen(const char *path, int backlog)
{
	struct sockaddr_un sa;
	size_t n = strlen(path);
	int fd, e;

	if (address(&sa, path) == -1)
		return -1;
	if (n + 4 >= sizeof sa.sun_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sa.sun_path + n, ".new", 5);
	if (unlink(sa.sun_path) == -1 && errno != ENOENT)
		return -1;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1)
		return -1;
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) == -1)
		goto fail;
	if (chmod(sa.sun_path, 0666) == -1 || listen(fd, backlog) == -1 || rename(sa.sun_path, path) == -1) {
		e = errno;
		(void)unlink(sa.sun_path);
		errno = e;
		goto fail;
	}
	return fd;
fail:
	e = errno;
	(void)close(fd);
	errno = e;
	return -1;
}

int unix_connect(const char *path, int timeout_s)
{
	struct sockaddr_un sa;
	struct timeval tv = { timeout_s, 0 };
	int fd, e;

	if (address(&sa, path) == -1)
		return -1;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) == -1 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof sa) == -1) {
		e = errno;
		(void)close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

int unix_peer_uid(int fd, uid_t *uid)
{
	struct ucred cr;
	socklen_t len = sizeof cr;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) == -1)
		return -1;
	if (len != sizeof cr) {
		errno = EPROTO;
		return -1;
	}
	*uid = cr.uid;
	return 0;
}

ssize_t unix_recv_record(int fd, void *buf, size_t cap, int timeout_ms)
{
	struct pollfd p = { fd, POLLIN, 0 };
	ssize_t r;
	int n;

	do
		n = poll(&p, 1, timeout_ms);
	while (n == -1 && errno == EINTR);
	if (n == 0)
		errno = ETIMEDOUT;
	if (n <= 0)
		return -1;
	do
		r = recv(fd, buf, cap, MSG_TRUNC);
	while (r == -1 && errno == EINTR);
	if (r > (ssize_t)cap) {
		errno = EMSGSIZE;
		return -1;
	}
	return r;
}
