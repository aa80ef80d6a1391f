#include <errno.h>
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

int unix_listen(const char *path, int backlog)
{
	struct sockaddr_un sa;
	int fd, e;

	if (address(&sa, path) == -1)
		return -1;
	if (unlink(path) == -1 && errno != ENOENT)
		return -1;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1)
		return -1;
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) == -1 || chmod(path, 0666) == -1 ||
	    listen(fd, backlog) == -1) {
		e = errno;
		(void)close(fd);
		errno = e;
		return -1;
	}
	return fd;
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
