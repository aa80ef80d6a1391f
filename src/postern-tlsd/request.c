/* A request from postern-smtpd or postern-remote (doc/tls.md): S, or C, a
 * policy byte and the server's name, with exactly five descriptors.  The
 * peer may be a compromised postern-smtpd or postern-remote, so every
 * descriptor that arrives is closed unless the record is exactly right, a
 * record cut short (MSG_TRUNC, MSG_CTRUNC) is refused whole, and the name,
 * which becomes an argument of postern-tlsio, may hold only the bytes of a
 * host name. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "tlsd.h"
#include "servername.h"

/* Room for more descriptors than a request has, so that a record with too
 * many is seen (and its descriptors closed) rather than cut silently. */
#define FDS_ROOM 16
/* The longest record: C, the policy byte, the name. */
#define RECORD_MAX (2 + SERVER_NAME_MAX)

/* The rest of a C record: 0, or why it is refused. */
static const char *client_request(const char *rec, size_t n, struct request *req)
{
	if (n < 2)
		return "malformed request: no policy";
	if (rec[1] != 'e' && rec[1] != 'v')
		return "malformed request: unknown policy";
	if (n == 2)
		return "malformed request: no server name";
	if (n - 2 > SERVER_NAME_MAX)
		return "malformed request: server name too long";
	if (!server_name_ok(rec + 2, n - 2))
		return "malformed request: bad server name";
	req->policy = rec[1];
	memcpy(req->name, rec + 2, n - 2);
	req->name[n - 2] = 0;
	return 0;
}

int request_read(int conn, struct request *req, const char **why)
{
	char rec[RECORD_MAX + 1]; /* + 1: a record one byte too long is seen whole */
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(FDS_ROOM * sizeof(int))];
	} ctl;
	struct iovec iov = { rec, sizeof rec };
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
	/* after a failed recvmsg the control buffer holds nothing received */
	for (c = n == -1 ? 0 : CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		size_t k, count;
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (k = 0; k < count && ngot < FDS_ROOM; k++)
			memcpy(&got[ngot++], CMSG_DATA(c) + k * sizeof(int), sizeof(int));
	}
	*why = 0;
	memset(req, 0, sizeof *req);
	if (n == -1)
		*why = "receive failed";
	else if (n == 0)
		*why = "empty request";
	else if (m.msg_flags & (MSG_TRUNC | MSG_CTRUNC))
		*why = "malformed request";
	else if (rec[0] == 'S' && n != 1)
		*why = "malformed request";
	else if (rec[0] == 'C')
		*why = client_request(rec, (size_t)n, req);
	else if (rec[0] != 'S')
		*why = "unknown request";
	if (!*why && ngot != REQUEST_FDS)
		*why = "wrong number of descriptors";
	if (*why) {
		for (i = 0; i < ngot; i++)
			(void)close(got[i]);
		return -1;
	}
	req->mode = rec[0];
	memcpy(req->fds, got, sizeof(int) * REQUEST_FDS);
	return 1;
}
