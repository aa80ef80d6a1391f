/* A TCP connection to an address within a timeout: SMTP's (smtp.c) and
 * the HTTPS fetch of an MTA-STS policy's (sts.c). */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "remote.h"

int tcp_dial(const struct addr *a, int timeout_s)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, err = 0;
	struct pollfd p;

	memset(&ss, 0, sizeof ss);
	if (a->af == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((unsigned short)a->port);
		memcpy(&s4->sin_addr, a->a, 4);
		sl = sizeof *s4;
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((unsigned short)a->port);
		memcpy(&s6->sin6_addr, a->a, 16);
		sl = sizeof *s6;
	}
	fd = socket(a->af, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&ss, sl) == -1) {
		if (errno != EINPROGRESS) {
			err = errno;
			goto fail;
		}
		p.fd = fd;
		p.events = POLLOUT;
		p.revents = 0;
		for (;;) {
			int r = poll(&p, 1, timeout_s * 1000);
			if (r == -1 && errno == EINTR)
				continue;
			if (r <= 0) {
				err = r == 0 ? ETIMEDOUT : errno;
				goto fail;
			}
			break;
		}
		sl = sizeof err;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &sl) == -1)
			err = errno;
		if (err)
			goto fail;
	}
	return fd;
fail:
	(void)close(fd);
	errno = err;
	return -1;
}
