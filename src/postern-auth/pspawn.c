/* The hand-over to postern-pspawn (doc/pop3.md, "postern-auth to
 * postern-pspawn"): one U record with the client's two descriptors, and
 * one answer, K or Z and a reason.  postern-pspawn runs as root: what we
 * send it is only a name that passed login_name and an address that passed
 * request_parse, and its answer is checked as strictly as a request, since
 * its text goes on to postern-popup.
 *
 * Z must mean that nothing was started, for postern-popup then goes on
 * with the client.  That is certain only while the record has not left
 * (no connection, a send that failed) or when postern-pspawn says Z.
 * Once it is queued, postern-pspawn may read it and start postern-pop3d
 * at any moment, even after we have closed our end; so no answer in
 * time, an end without one, or one we cannot read is "unknown", and the
 * caller says nothing to postern-popup at all. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "auth.h"
#include "die.h"
#include "fdpass.h"
#include "loginname.h"
#include "unixsock.h"

#define CONNECT_S 10    /* a full backlog: connect and send wait this long */
#define ANSWER_MS 10000 /* postern-pspawn's time to start postern-pop3d */
#define U_MAX 320       /* doc/pop3.md's bound on the U record */

_Static_assert(1 + LOGINNAME_MAX + 1 + IP_MAX + 1 <= U_MAX, "the longest U record is within doc/pop3.md's bound");

/* 1 if a (n bytes) is Z and 1 to TEXT_MAX bytes of printable ASCII. */
static int z_ok(const char *a, size_t n)
{
	size_t i;

	if (n < 2 || n > 1 + TEXT_MAX || a[0] != 'Z')
		return 0;
	for (i = 1; i < n; i++)
		if (a[i] < 0x20 || a[i] >= 0x7f)
			return 0;
	return 1;
}

/* After the record went: the answer read into ans, its length; or -1
 * with *why (and errno, or 0 when no call failed). */
static ssize_t answer_read(int fd, char *ans, size_t cap, const char **why)
{
	ssize_t got;
	int r = wait_readable(fd, ANSWER_MS);

	if (r != 1) {
		*why = r ? "unable to wait for postern-pspawn" : "no answer from postern-pspawn within 10 s";
		if (r == 0)
			errno = 0;
		return -1;
	}
	got = recv(fd, ans, cap, MSG_DONTWAIT);
	if (got == -1)
		*why = "unable to read postern-pspawn's answer";
	else if (got == 0)
		*why = "postern-pspawn closed without an answer";
	return got;
}

int pspawn_hand(const char *path, const struct request *req, const int fds[2], struct str *text, const char **sys)
{
	char rec[U_MAX], ans[1 + TEXT_MAX + 1]; /* + 1: one too long is seen */
	const char *why = 0;
	ssize_t got = -1;
	size_t n = 0;
	int fd, e = 0, sent = 0;

	rec[n++] = 'U';
	memcpy(rec + n, req->user, req->userlen);
	n += req->userlen;
	rec[n++] = 0;
	memcpy(rec + n, req->ip, req->iplen);
	n += req->iplen;
	rec[n++] = 0;
	fd = unix_connect(path, CONNECT_S);
	if (fd == -1) {
		e = errno;
		why = "unable to reach postern-pspawn";
	} else {
		if (fdpass_send(fd, rec, n, fds, 2) == -1) {
			e = errno;
			why = "unable to send to postern-pspawn";
		} else {
			sent = 1;
			got = answer_read(fd, ans, sizeof ans, &why);
			e = got == -1 ? errno : 0;
		}
		/* after a K postern-pop3d has the client whatever close says:
		 * the answer stands */
		if (close(fd) == -1)
			warn_sys("warning: unable to close the socket to postern-pspawn");
	}
	if (!why && !(got == 1 && ans[0] == 'K') && !z_ok(ans, (size_t)got))
		why = "malformed answer from postern-pspawn";
	*sys = e ? strerror(e) : 0;
	if (!why && ans[0] == 'K')
		return 0;
	/* the caller's log line, and for a Z its answer: never empty, even
	 * out of memory */
	if (why ? !str_copys(text, why) : !str_copyb(text, ans + 1, (size_t)got - 1))
		text->len = 0;
	return why && sent ? -2 : -1;
}
