/* The login: one request to postern-auth with the client's connection
 * (doc/pop3.md, "postern-popup to postern-auth").  postern-auth checks
 * the password and, on a match, has postern-pspawn start postern-pop3d
 * as the user with the connection; we only learn which it was. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "popup.h"
#include "fdpass.h"
#include "home.h"
#include "loginname.h"
#include "unixsock.h"

#define AUTH_SOCKET "run/auth/socket"
#define CONNECT_S 10
/* postern-auth checks one password at a time, so a flood of logins waits
 * in its backlog; an honest client should still get an answer */
#define ANSWER_S 60
#define RECORD_MAX 1400

/* Sets why; returns code: Z when nothing can have been started, U when
 * the request went out and no answer says what came of it. */
static char fail_as(char code, struct str *why, const char *text, int err)
{
	if (!str_copys(why, text) || (err && (!str_cats(why, ": ") || !str_cats(why, strerror(err)))))
		why->len = 0;
	return code;
}
#define fail(why, text, err) fail_as('Z', why, text, err)
#define unknown(why, text, err) fail_as('U', why, text, err)

/* The request, built in a buffer we wipe: it holds the password. */
static size_t build(char *rec, const char *user, size_t ulen, const char *pass, size_t plen, const char *ip)
{
	size_t n = 0, iplen = strlen(ip);

	if (iplen > REMOTEIP_MAX)
		iplen = 0; /* only the log reads it; postern-auth would refuse it */
	rec[n++] = 'P';
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

char login_ask(const char *user, size_t ulen, const char *pass, size_t plen, const char *ip, int rfd, int wfd,
               struct str *why)
{
	static struct str path;
	char rec[RECORD_MAX], answer[256];
	int fds[2] = { rfd, wfd };
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
	len = build(rec, user, ulen, pass, plen, ip);
	r = fdpass_send(s, rec, len, fds, 2);
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
	/* From here on the connection may be postern-pop3d's: only an answer
	 * says it is not. */
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
