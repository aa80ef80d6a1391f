#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "fdpass.h"

union fdpass_ctl {
	struct cmsghdr h; /* aligns the buffer for it */
	char b[CMSG_SPACE(FDPASS_MAX * sizeof(int))];
};

int fdpass_send(int sock, const char *rec, size_t n, const int *fds, size_t nfds)
{
	struct iovec iov = { (void *)rec, n };
	union fdpass_ctl u;
	struct msghdr m;
	struct cmsghdr *c;
	ssize_t r;

	if (n == 0 || nfds > FDPASS_MAX) {
		errno = EINVAL;
		return -1;
	}
	memset(&u, 0, sizeof u);
	memset(&m, 0, sizeof m);
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	if (nfds) {
		m.msg_control = u.b;
		m.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
	}
	do
		r = sendmsg(sock, &m, MSG_NOSIGNAL);
	while (r == -1 && errno == EINTR);
	if (r == -1)
		return -1;
	if ((size_t)r != n) {
		errno = EIO;
		return -1;
	}
	return 0;
}

void fdpass_close(int *fds, size_t nfds)
{
	size_t i;
	for (i = 0; i < nfds; i++)
		if (fds[i] >= 0)
			(void)close(fds[i]);
}

int fdpass_recv(int sock, char *buf, size_t cap, size_t *n, int *fds, size_t max, size_t *nfds, int flags)
{
	union fdpass_ctl u;
	int got[FDPASS_MAX];
	size_t ngot = 0, k, count;
	struct iovec iov = { buf, cap };
	struct msghdr m;
	struct cmsghdr *c;
	ssize_t r;

	*n = 0;
	*nfds = 0;
	memset(&m, 0, sizeof m);
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = u.b;
	m.msg_controllen = sizeof u.b;
	r = recvmsg(sock, &m, flags | MSG_CMSG_CLOEXEC);
	if (r == -1)
		return -1; /* the control buffer holds nothing received */
	for (c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS || c->cmsg_len < CMSG_LEN(0))
			continue;
		count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (k = 0; k < count && ngot < FDPASS_MAX; k++)
			memcpy(&got[ngot++], CMSG_DATA(c) + k * sizeof(int), sizeof(int));
	}
	if ((m.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || ngot > max) {
		fdpass_close(got, ngot);
		errno = EMSGSIZE;
		return -1;
	}
	if (r == 0 && ngot == 0)
		return 0;
	memcpy(fds, got, ngot * sizeof(int));
	*n = (size_t)r;
	*nfds = ngot;
	return 1;
}
