/* One request to postern-auth and its answer (authask.h).  Every wait is
 * bounded: the connect, and the answer, which may come late when many
 * logins wait for postern-auth's one check at a time. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "authask.h"
#include "fdpass.h"
#include "home.h"
#include "loginname.h"
#include "pop3limits.h"
#include "remoteip.h"
#include "unixsock.h"

#define AUTH_SOCKET "run/auth/socket"
#define CONNECT_S 10
/* postern-auth checks one password at a time, so a flood of logins waits
 * in its backlog; an honest client should still get an answer */
#define ANSWER_S 60
#define RECORD_MAX 1400

_Static_assert(1 + LOGINNAME_MAX + 1 + PASSWORD_MAX + 1 + REMOTEIP_MAX + 1 <= RECORD_MAX,
               "the longest request fits the record");

/* Sets why; returns code. */
static char fail_as(char code, struct str *why, const char *text, int err)
{
	if (!str_copys(why, text) || (err && (!str_cats(why, ": ") || !str_cats(why, strerror(err)))))
		why->len = 0;
	return code;
}
#define fail(why, text, err) fail_as('Z', why, text, err)
#define unknown(why, text, err) fail_as('U', why, text, err)

static size_t build(char *rec, char type, const char *user, size_t ulen, const char *pass, size_t plen,
                    const char *ip)
{
	size_t n = 0, iplen = strlen(ip);

	if (iplen > REMOTEIP_MAX)
		iplen = 0; /* only the log reads it; postern-auth would refuse it */
	rec[n++] = type;
	memcpy(rec + n, user, ulen);
	n += ulen;
	rec[n++] = 0;
	memcpy(rec + n, pass, plen);
	n += plen;
	rec[n++] = 0;
	memcpy(rec + n, ip, iplen);
	n += iplen;
	rec[n++] = 0;
	return n;
}

char auth_ask(char type, const char *user, size_t ulen, const char *pass, size_t plen, const char *ip,
              const int *fds, size_t nfds, struct str *why)
{
	static struct str path;
	char rec[RECORD_MAX], answer[256];
	struct pollfd p;
	ssize_t n;
	size_t len;
	int s, r;

	if (ulen > LOGINNAME_MAX || plen > PASSWORD_MAX)
		return 'N';
	if (!path.len && !home_path(&path, AUTH_SOCKET))
		return fail(why, "out of memory", 0);
	s = unix_connect(path.s, CONNECT_S);
	if (s == -1)
		return fail(why, "unable to connect to postern-auth", errno);
	len = build(rec, type, user, ulen, pass, plen, ip);
	r = fdpass_send(s, rec, len, fds, nfds);
	explicit_bzero(rec, sizeof rec);
	if (r == -1) {
		r = errno;
		(void)close(s);
		return fail(why, "unable to send the request to postern-auth", r);
	}
	p.fd = s;
	p.events = POLLIN;
	do
		r = poll(&p, 1, ANSWER_S * 1000);
	while (r == -1 && errno == EINTR);
	/* From here on a P's connection may be postern-pop3d's: only an
	 * answer says it is not. */
	if (r <= 0) {
		(void)close(s);
		return unknown(why, r == 0 ? "postern-auth did not answer within 60 seconds" : "poll", r ? errno : 0);
	}
	do
		n = recv(s, answer, sizeof answer, 0);
	while (n == -1 && errno == EINTR);
	r = errno;
	(void)close(s);
	if (n == -1)
		return unknown(why, "unable to read postern-auth's answer", r);
	if (n == 1 && (answer[0] == 'K' || answer[0] == 'N'))
		return answer[0];
	if (n > 1 && answer[0] == 'Z') {
		if (!str_copyb(why, answer + 1, (size_t)n - 1))
			why->len = 0;
		return 'Z';
	}
	return unknown(why,
	               n == 0 ? "postern-auth closed the connection without an answer" : "postern-auth's answer is malformed",
	               0);
}
