/* The one record postern-auth sends (doc/pop3.md): U USER \0 REMOTEIP \0,
 * exactly.  Root reads it, so nothing in it is guessed at: a byte out of
 * place refuses the whole record.  USER, a login name (src/lib/loginname.c,
 * the one check every POP3 program makes), reaches getpwnam, a path under
 * HOME/vmail and the environment of postern-pop3d; REMOTEIP only the
 * environment and the logs. */
#include <string.h>
#include "pspawn.h"
#include "loginname.h"
#include "remoteip.h"

const char *record_parse(const char *rec, size_t n, struct request *req)
{
	const char *user, *ip, *end;
	size_t ulen, iplen, at;

	if (n == 0)
		return "malformed request: empty";
	if (rec[0] != 'U')
		return "malformed request: unknown type";
	if (n > RECORD_MAX)
		return "malformed request: too long";
	if (rec[n - 1] != 0)
		return "malformed request: not ended by a NUL";
	user = rec + 1;
	end = memchr(user, 0, n - 1);  /* found: rec[n - 1] is one */
	ulen = (size_t)(end - user);
	if (end == rec + n - 1)
		return "malformed request: no REMOTEIP";
	ip = end + 1;
	end = memchr(ip, 0, (size_t)(rec + n - ip));
	iplen = (size_t)(end - ip);
	if (end != rec + n - 1)
		return "malformed request: more than two fields";
	if (!login_name(user, ulen, &at))
		return "malformed request: bad USER";
	if (!remote_ip_ok(ip, iplen))
		return "malformed request: bad REMOTEIP";
	memcpy(req->user, user, ulen);
	req->user[ulen] = 0;
	memcpy(req->ip, ip, iplen);
	req->ip[iplen] = 0;
	return 0;
}
