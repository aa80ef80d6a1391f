/* A request from postern-popup or postern-smtpd -a (doc/pop3.md): P or C,
 * then USER, PASSWORD and REMOTEIP, each ended by a NUL, and nothing
 * after the last.  The peer may be one taken over from the network, so
 * nothing is guessed: a record that is not exactly right is refused
 * whole, and the reasons never quote it (it may hold a password). */
#include <string.h>
#include "auth.h"
#include "loginname.h"
#include "remoteip.h"

_Static_assert(1 + LOGINNAME_MAX + 1 + PASSWORD_MAX + 1 + IP_MAX + 1 <= RECORD_MAX,
               "the longest request is within doc/pop3.md's bound");

/* The field at *pos, ended by a NUL before n: its start, with *len its
 * length and *pos past its NUL; 0 when no NUL ends it. */
static const char *field(const char *rec, size_t n, size_t *pos, size_t *len)
{
	const char *p = rec + *pos;
	const char *z = *pos < n ? memchr(p, 0, n - *pos) : 0;

	if (!z)
		return 0;
	*len = (size_t)(z - p);
	*pos += *len + 1;
	return p;
}

const char *request_parse(const char *rec, size_t n, size_t nfds, struct request *req)
{
	size_t pos = 1, at;

	memset(req, 0, sizeof *req);
	if (n == 0)
		return "empty record";
	if (rec[0] != 'P' && rec[0] != 'C')
		return "unknown request type";
	if (n > RECORD_MAX)
		return "record too long";
	if (rec[n - 1] != 0)
		return "no NUL at the end of the record";
	req->user = field(rec, n, &pos, &req->userlen);
	req->password = req->user ? field(rec, n, &pos, &req->passwordlen) : 0;
	req->ip = req->password ? field(rec, n, &pos, &req->iplen) : 0;
	if (!req->ip)
		return "fewer than three fields";
	if (pos != n)
		return "more than three fields";
	if (!login_name(req->user, req->userlen, &at))
		return "malformed user name";
	if (req->passwordlen == 0 || req->passwordlen > PASSWORD_MAX)
		return "malformed password";
	if (!remote_ip_ok(req->ip, req->iplen))
		return "malformed remote address";
	if (rec[0] == 'P' && nfds != 2)
		return "P without exactly two descriptors";
	if (rec[0] == 'C' && nfds != 0)
		return "C with descriptors";
	req->type = rec[0];
	return 0;
}
