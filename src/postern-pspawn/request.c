/* Reading a request off its connection.  The peer is postern-auth, which
 * may have been taken over: every descriptor that arrives is closed unless
 * the record is exactly right, and a record cut short is refused whole
 * (fdpass_recv). */
#include <errno.h>
#include <sys/socket.h>
#include "pspawn.h"
#include "fdpass.h"

int request_read(int conn, struct request *req, const char **why)
{
	/* Room for more descriptors than a request has, so that a record with
	 * too many is seen and refused rather than cut to two. */
	int fds[FDPASS_MAX];
	char rec[RECORD_MAX];
	size_t n, nfds;
	int r = fdpass_recv(conn, rec, sizeof rec, &n, fds, FDPASS_MAX, &nfds, MSG_DONTWAIT);

	*why = 0;
	if (r == -1 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (r == -1) {
		*why = errno == EMSGSIZE ? "malformed request: too long or too many descriptors"
		                         : "unable to receive the request";
		return -1;
	}
	if (r == 0) {
		*why = "closed without a request";
		return -1;
	}
	*why = record_parse(rec, n, req);
	if (!*why && nfds != REQUEST_FDS)
		*why = "malformed request: not two descriptors";
	if (*why) {
		fdpass_close(fds, nfds);
		return -1;
	}
	req->fds[0] = fds[0];
	req->fds[1] = fds[1];
	return 1;
}
