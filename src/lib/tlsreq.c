/* The application side of postern-tlsd's request socket and of UCSPI-TLS
 * (doc/tls.md), for postern-smtpd and postern-remote alike. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "tlsreq.h"
#include "die.h"
#include "fmt.h"
#include "home.h"
#include "io.h"
#include "unixsock.h"

#define REPORT_MAX 4096 /* the SSL_* strings: a few names, far below this */

/* Puts why a step failed into why; returns -1 for the caller to return. */
static int fail(struct str *why, const char *what, const char *detail, size_t n, int err)
{
	why->len = 0;
	if (!str_copys(why, what) || (detail && (!str_cats(why, ": ") || !str_catb(why, detail, n))) ||
	    (err && (!str_cats(why, ": ") || !str_cats(why, strerror(err)))))
		die_nomem();
	return -1;
}

const char *tlsreq_path(void)
{
	static struct str path;
	if (!path.len && !home_path(&path, TLSREQ_SOCKET))
		die_nomem();
	return path.s;
}

/* A connection to postern-tlsd in *s; unix_connect bounds the wait of a
 * full backlog, and the send, by TLSREQ_WAIT_S. */
static int tlsd_connect(int *s, struct str *why)
{
	const char *p = tlsreq_path();

	*s = unix_connect(p, TLSREQ_WAIT_S);
	if (*s == -1)
		return fail(why, "unable to connect to postern-tlsd", p, strlen(p), errno);
	return 0;
}

/* The request: its data and the five descriptors, in doc/tls.md's order. */
static int send_request(int s, const char *req, size_t n, const int fds[5], struct str *why)
{
	struct iovec iov = { (void *)req, n };
	union {
		struct cmsghdr h; /* aligns the buffer for it */
		char b[CMSG_SPACE(5 * sizeof(int))];
	} u;
	struct msghdr m;
	struct cmsghdr *c;
	ssize_t r;

	memset(&u, 0, sizeof u);
	memset(&m, 0, sizeof m);
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = u.b;
	m.msg_controllen = sizeof u.b;
	c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(5 * sizeof(int));
	memcpy(CMSG_DATA(c), fds, 5 * sizeof(int));
	do
		r = sendmsg(s, &m, MSG_NOSIGNAL);
	while (r == -1 && errno == EINTR);
	if (r == -1 || (size_t)r != n)
		return fail(why, "unable to send the request to postern-tlsd", 0, 0, r == -1 ? errno : EIO);
	return 0;
}

/* postern-tlsd's one-record answer: K, or Z and a line of text. */
static int read_reply(int s, struct str *why)
{
	char b[256];
	struct io r;
	ssize_t n;

	io_init(&r, s, b, sizeof b);
	r.timeout_ms = TLSREQ_WAIT_S * 1000;
	n = io_fill(&r);
	if (n == -1 && errno == ETIMEDOUT)
		return fail(why, "postern-tlsd did not answer within 10 seconds", 0, 0, 0);
	if (n == -1)
		return fail(why, "unable to read postern-tlsd's answer", 0, 0, errno);
	if (n == 0)
		return fail(why, "postern-tlsd closed the connection without an answer", 0, 0, 0);
	if (n == 1 && b[0] == 'K')
		return 0;
	if (b[0] == 'Z') {
		size_t l = (size_t)n - 1;
		while (l && (b[l] == '\n' || b[l] == '\r'))
			l--;
		return fail(why, "postern-tlsd refused", b + 1, l, 0);
	}
	return fail(why, "postern-tlsd answered something that is not K or Z", 0, 0, 0);
}

static void close_all(const int *fds, size_t n)
{
	while (n--)
		if (fds[n] != -1)
			(void)close(fds[n]); /* ours, never used: nothing to lose */
}

/* The engine's ends of the control socket and the pipes go to it, and we
 * close ours of them at once, so that an engine that dies is seen as EOF. */
int tlsreq_start(const char *req, size_t n, int netr, int netw, int fds[3], struct str *why)
{
	int s = -1, ctl[2] = { -1, -1 }, up[2] = { -1, -1 }, down[2] = { -1, -1 };
	int r;

	if (tlsd_connect(&s, why) == -1)
		return -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ctl) == -1 || pipe2(up, O_CLOEXEC) == -1 ||
	    pipe2(down, O_CLOEXEC) == -1) {
		r = fail(why, "unable to make the control socket and pipes", 0, 0, errno);
	} else {
		/* the network (read, write), the engine's control end, the pipe
		 * it reads our plaintext from, the pipe it writes the peer's to */
		int theirs[5] = { netr, netw, ctl[1], up[0], down[1] };
		r = send_request(s, req, n, theirs, why);
		close_all(theirs + 2, 3);
		ctl[1] = up[0] = down[1] = -1;
		if (r == 0)
			r = read_reply(s, why);
	}
	(void)close(s); /* the request is over either way */
	if (r == -1) {
		/* all six: the engine's ends are still open when making a pipe failed */
		int all[6] = { ctl[0], up[1], down[0], ctl[1], up[0], down[1] };
		close_all(all, 6);
		return -1;
	}
	fds[0] = ctl[0];
	fds[1] = down[0];
	fds[2] = up[1];
	return 0;
}

/* Where the report ends: the offset just past its empty string, or 0
 * while it is not complete. */
static size_t report_end(const char *b, size_t n)
{
	size_t p = 0;
	for (;;) {
		const char *z = memchr(b + p, 0, n - p);
		if (!z)
			return 0;
		if ((size_t)(z - b) == p)
			return p + 1;
		p = (size_t)(z - b) + 1;
	}
}

static int take(struct str *to, const char *s, const char *key)
{
	size_t k = strlen(key);
	if (strncmp(s, key, k) != 0)
		return 0;
	if (!str_copys(to, s + k))
		die_nomem();
	return 1;
}

/* The strings we use; others (SSL_* that a different engine may add) are
 * ignored.  The report ends at b[end - 1], its empty string. */
static void report_parse(const char *b, size_t end, struct tls_report *rep)
{
	struct str v = STR_INIT;
	size_t p;

	if (!str_copys(&rep->protocol, "") || !str_copys(&rep->cipher, "") || !str_copys(&rep->sni, "") ||
	    !str_copys(&rep->verify_error, ""))
		die_nomem();
	rep->verified = -1;
	for (p = 0; p + 1 < end; p += strlen(b + p) + 1) {
		if (take(&rep->protocol, b + p, "SSL_PROTOCOL="))
			continue;
		if (take(&rep->cipher, b + p, "SSL_CIPHER="))
			continue;
		if (take(&rep->sni, b + p, "SSL_TLS_SNI_SERVERNAME="))
			continue;
		if (take(&rep->verify_error, b + p, "SSL_PEER_VERIFY_ERROR="))
			continue;
		/* only an exact "1" is a verified peer: anything else is not */
		if (take(&v, b + p, "SSL_PEER_VERIFIED="))
			rep->verified = str_equals(&v, "1");
	}
	str_free(&v);
}

int tlsreq_handshake(int ctl, unsigned timeout_s, struct tls_report *rep, struct str *why)
{
	static char b[REPORT_MAX];
	struct io r;
	size_t end = 0;

	if (write_all(ctl, "Y", 1) == -1)
		return fail(why, "unable to write to the control socket", 0, 0, errno);
	io_init(&r, ctl, b, sizeof b);
	io_deadline(&r, timeout_s * 1000ULL);
	while (!end) {
		ssize_t n = io_fill(&r);
		if (n == -1 && errno == ENOBUFS)
			return fail(why, "the engine's report is over 4096 bytes", 0, 0, 0);
		if (n == -1 && errno == ETIMEDOUT) {
			char num[FMT_ULONG + 1];
			num[fmt_ulong(num, timeout_s)] = 0;
			fail(why, "no handshake within ", 0, 0, 0);
			if (!str_cats(why, num) || !str_cats(why, " seconds"))
				die_nomem();
			return -1;
		}
		if (n == -1)
			return fail(why, "unable to read the control socket", 0, 0, errno);
		if (n == 0)
			return fail(why, "the engine ended: the handshake failed", 0, 0, 0);
		end = report_end(b, r.len);
	}
	report_parse(b, end, rep);
	return 0;
}
