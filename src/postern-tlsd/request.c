/* A request from postern-smtpd or postern-remote (doc/tls.md): S, or C, a
 * policy byte and the server's name, with exactly five descriptors.  The
 * peer may be a compromised postern-smtpd or postern-remote, so every
 * descriptor that arrives is closed unless the record is exactly right, a
 * record cut short, or with more descriptors than FDPASS_MAX, is refused
 * whole (fdpass_recv), and the name, which becomes an argument of
 * postern-tlsio, may hold only the bytes of a host name. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include "tlsd.h"
#include "fdpass.h"
#include "servername.h"

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
	int got[FDPASS_MAX];
	size_t n, ngot;
	int r = fdpass_recv(conn, rec, sizeof rec, &n, got, FDPASS_MAX, &ngot, MSG_DONTWAIT);

	if (r == -1 && (errno == EAGAIN || errno == EINTR))
		return 0;
	*why = 0;
	memset(req, 0, sizeof *req);
	if (r == -1)
		*why = errno == EMSGSIZE ? "malformed request" : "receive failed";
	else if (n == 0)
		*why = "empty request";
	else if (rec[0] == 'S' && n != 1)
		*why = "malformed request";
	else if (rec[0] == 'C')
		*why = client_request(rec, n, req);
	else if (rec[0] != 'S')
		*why = "unknown request";
	if (!*why && ngot != REQUEST_FDS)
		*why = "wrong number of descriptors";
	if (*why) {
		fdpass_close(got, ngot);
		return -1;
	}
	req->mode = rec[0];
	memcpy(req->fds, got, sizeof(int) * REQUEST_FDS);
	return 1;
}
