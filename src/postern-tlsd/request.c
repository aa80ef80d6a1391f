/* A request from postern-smtpd (doc/tls.md): one byte and exactly five
 * descriptors.  The peer may be a compromised postern-smtpd, so every
 * descriptor that arrives is closed unless the record is exactly right,
 * and a record cut short (MSG_TRUNC, MSG_CTRUNC) is refused whole. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "tlsd.h"

/* Room for more descriptors than a request has, so that a record with too
 * many is seen (and its descriptors closed) rather than cut silently. */
#define FDS_ROOM 16

int request_read(int conn, int fds[REQUEST_FDS], const char **why)
{
	char byte[2];
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(FDS_ROOM * sizeof(int))];
	} ctl;
	struct iovec iov = { byte, sizeof byte };
	struct msghdr m;
	struct cmsghdr *c;
	int got[FDS_ROOM], ngot = 0, i;
	ssize_t n;

	memset(&m, 0, sizeof m);
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = ctl.buf;
	m.msg_controllen = sizeof ctl.buf;
	n = recvmsg(conn, &m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return 0;
	for (c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		size_t k, count;
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (k = 0; k < count && ngot < FDS_ROOM; k++)
			memcpy(&got[ngot++], CMSG_DATA(c) + k * sizeof(int), sizeof(int));
	}
	*why = 0;
	if (n == -1)
		*why = "receive failed";
	else if (n == 0)
		*why = "empty request";
	else if (n != 1 || (m.msg_flags & (MSG_TRUNC | MSG_CTRUNC)))
		*why = "malformed request";
	else if (byte[0] == 'C')
		*why = "client mode is not available";
	else if (byte[0] != 'S')
		*why = "unknown request";
	else if (ngot != REQUEST_FDS)
		*why = "wrong number of descriptors";
	if (*why) {
		for (i = 0; i < ngot; i++)
			(void)close(got[i]);
		return -1;
	}
	memcpy(fds, got, sizeof(int) * REQUEST_FDS);
	return 1;
}
