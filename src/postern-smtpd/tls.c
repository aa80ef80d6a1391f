/* STARTTLS's helper: the application side of UCSPI-TLS (doc/tls.md).
 *
 * postern-smtpd holds no TLS stack and no key.  The helper, a TLS engine,
 * comes one of two ways: the UCSPI-TLS server we run under (s6-ucspitlsd)
 * gave us one in SSLCTLFD, SSLREADFD and SSLWRITEFD; or, at STARTTLS, we
 * ask postern-tlsd for one over HOME/run/tlsd/socket, handing it the
 * connection and our ends of a control socket and two pipes.  Either
 * way, `Y` on the control socket starts the handshake and the engine
 * answers with NUL-terminated SSL_* strings; from then on the plaintext
 * goes through the pipes.  Every wait here is bounded: the request's
 * answer by REQUEST_S, the handshake by HANDSHAKE_S. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>
#include "smtpd.h"
#include "die.h"
#include "fmt.h"
#include "home.h"
#include "io.h"

#define TLSD_SOCKET "run/tlsd/socket"
#define REQUEST_S 10      /* doc/tls.md: the wait for postern-tlsd's K or Z */
#define HANDSHAKE_S 60    /* the engine's own limit for the handshake */
#define REPORT_MAX 4096   /* the SSL_* strings: a few names, far below this */

static int ctlfd = -1, readfd = -1, writefd = -1;
static int from_env;      /* the helper came from a UCSPI-TLS server */
static struct str why;    /* why the last step failed, for the log */

/* Remembers why a step failed; returns -1 for the caller to return. */
static int fail(const char *what, const char *detail, size_t n, int err)
{
	why.len = 0;
	if (!str_copys(&why, what) || (detail && (!str_cats(&why, ": ") || !str_catb(&why, detail, n))) ||
	    (err && (!str_cats(&why, ": ") || !str_cats(&why, strerror(err)))))
		die_nomem();
	return -1;
}

const struct str *tls_why(void) { return &why; }

/* One of the UCSPI-TLS variables: 1 a usable fd in *fd, 0 absent, -1 not
 * a descriptor we may use (not decimal, not open, or one of 0, 1, 2, which
 * are the network and the log).  It becomes close-on-exec: postern-queue
 * must never hold the client's plaintext. */
static int env_fd(const char *name, int *fd)
{
	const char *s = getenv(name);
	unsigned long long u;

	if (!s)
		return 0;
	if (!scan_ulong_all(s, strlen(s), &u) || u < 3 || u > INT_MAX)
		return -1;
	if (fcntl((int)u, F_SETFD, FD_CLOEXEC) == -1)
		return -1;
	*fd = (int)u;
	return 1;
}

int tls_env(void)
{
	int c = env_fd("SSLCTLFD", &ctlfd), r = env_fd("SSLREADFD", &readfd), w = env_fd("SSLWRITEFD", &writefd);

	if (c == 0 && r == 0 && w == 0)
		return 0;
	if (c != 1 || r != 1 || w != 1) {
		ctlfd = readfd = writefd = -1;
		return -1;
	}
	from_env = 1;
	return 1;
}

static const char *socket_path(void)
{
	static struct str path;
	if (!path.len && !home_path(&path, TLSD_SOCKET))
		die_nomem();
	return path.s;
}

int tls_offer(void)
{
	struct stat st;
	if (from_env)
		return 1;
	return cfg.starttls && stat(socket_path(), &st) == 0 && S_ISSOCK(st.st_mode);
}

/* A connection to postern-tlsd in *s.  A service whose backlog is full
 * makes connect(2) wait: SO_SNDTIMEO bounds that, and the send. */
static int tlsd_connect(int *s)
{
	struct sockaddr_un sa;
	struct timeval tv = { REQUEST_S, 0 };
	const char *p = socket_path();
	size_t n = strlen(p);

	if (n >= sizeof sa.sun_path)
		return fail("the path of postern-tlsd's socket is too long", p, n, 0);
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, p, n + 1);
	*s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (*s == -1)
		return fail("unable to make a socket", 0, 0, errno);
	if (setsockopt(*s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) == -1 ||
	    connect(*s, (struct sockaddr *)&sa, sizeof sa) == -1) {
		int e = errno;
		close(*s);
		return fail("unable to connect to postern-tlsd", p, n, e);
	}
	return 0;
}

/* The request: `S` and the five descriptors, in doc/tls.md's order. */
static int send_request(int s, const int fds[5])
{
	char byte = 'S';
	struct iovec iov = { &byte, 1 };
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
	if (r != 1)
		return fail("unable to send the request to postern-tlsd", 0, 0, r == -1 ? errno : EIO);
	return 0;
}

/* postern-tlsd's one-record answer: K, or Z and a line of text. */
static int read_reply(int s)
{
	char b[256];
	struct io r;
	ssize_t n;

	io_init(&r, s, b, sizeof b);
	r.timeout_ms = REQUEST_S * 1000;
	n = io_fill(&r);
	if (n == -1 && errno == ETIMEDOUT)
		return fail("postern-tlsd did not answer within 10 seconds", 0, 0, 0);
	if (n == -1)
		return fail("unable to read postern-tlsd's answer", 0, 0, errno);
	if (n == 0)
		return fail("postern-tlsd closed the connection without an answer", 0, 0, 0);
	if (n == 1 && b[0] == 'K')
		return 0;
	if (b[0] == 'Z') {
		size_t l = (size_t)n - 1;
		while (l && (b[l] == '\n' || b[l] == '\r'))
			l--;
		return fail("postern-tlsd refused", b + 1, l, 0);
	}
	return fail("postern-tlsd answered something that is not K or Z", 0, 0, 0);
}

static void close_all(const int *fds, size_t n)
{
	while (n--)
		if (fds[n] != -1)
			close(fds[n]);
}

/* Asks postern-tlsd for an engine.  The engine's ends of the control
 * socket and the pipes go to it, and we close ours of them at once, so
 * that an engine that dies is seen as EOF. */
static int tlsd_request(void)
{
	int s = -1, ctl[2] = { -1, -1 }, up[2] = { -1, -1 }, down[2] = { -1, -1 };
	int r;

	if (tlsd_connect(&s) == -1)
		return -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ctl) == -1 || pipe2(up, O_CLOEXEC) == -1 ||
	    pipe2(down, O_CLOEXEC) == -1) {
		r = fail("unable to make the control socket and pipes", 0, 0, errno);
	} else {
		/* the network twice (read, write), the engine's control end, the
		 * pipe it reads our plaintext from, the pipe it writes the client's to */
		int theirs[5] = { 0, 1, ctl[1], up[0], down[1] };
		r = send_request(s, theirs);
		close_all(theirs + 2, 3);
		ctl[1] = up[0] = down[1] = -1;
		if (r == 0)
			r = read_reply(s);
	}
	close(s);
	if (r == -1) {
		int ours[3] = { ctl[0], up[1], down[0] };
		close_all(ours, 3);
		return -1;
	}
	ctlfd = ctl[0];
	writefd = up[1];
	readfd = down[0];
	return 0;
}

int tls_helper(void)
{
	if (ctlfd != -1)
		return 0;
	if (!cfg.starttls)
		return fail("control/starttls is 0", 0, 0, 0);
	return tlsd_request();
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
	size_t p;
	if (!str_copys(&rep->protocol, "") || !str_copys(&rep->cipher, "") || !str_copys(&rep->sni, ""))
		die_nomem();
	for (p = 0; p + 1 < end; p += strlen(b + p) + 1) {
		if (take(&rep->protocol, b + p, "SSL_PROTOCOL="))
			continue;
		if (take(&rep->cipher, b + p, "SSL_CIPHER="))
			continue;
		(void)take(&rep->sni, b + p, "SSL_TLS_SNI_SERVERNAME=");
	}
}

/* Reads the engine's report: at most REPORT_MAX bytes within HANDSHAKE_S. */
static int read_report(struct tls_report *rep)
{
	static char b[REPORT_MAX];
	struct io r;
	size_t end = 0;

	io_init(&r, ctlfd, b, sizeof b);
	io_deadline(&r, HANDSHAKE_S * 1000ULL);
	while (!end) {
		ssize_t n = io_fill(&r);
		if (n == -1 && errno == ENOBUFS)
			return fail("the engine's report is over 4096 bytes", 0, 0, 0);
		if (n == -1 && errno == ETIMEDOUT)
			return fail("no handshake within 60 seconds", 0, 0, 0);
		if (n == -1)
			return fail("unable to read the control socket", 0, 0, errno);
		if (n == 0)
			return fail("the engine ended: the handshake failed", 0, 0, 0);
		end = report_end(b, r.len);
	}
	report_parse(b, end, rep);
	return 0;
}

int tls_start(struct tls_report *rep, int *rfd, int *wfd)
{
	if (write_all(ctlfd, "Y", 1) == -1)
		return fail("unable to write to the control socket", 0, 0, errno);
	if (read_report(rep) == -1)
		return -1;
	*rfd = readfd;
	*wfd = writefd;
	return 0;
}
