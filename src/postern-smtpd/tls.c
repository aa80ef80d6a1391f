/* STARTTLS's helper: the application side of UCSPI-TLS (doc/tls.md).
 *
 * postern-smtpd holds no TLS stack and no key.  The helper, a TLS engine,
 * comes one of two ways: the UCSPI-TLS server we run under (s6-ucspitlsd)
 * gave us one in SSLCTLFD, SSLREADFD and SSLWRITEFD; or, at STARTTLS, we
 * ask postern-tlsd for one over HOME/run/tlsd/socket, handing it the
 * connection and our ends of a control socket and two pipes.  Either
 * way, `Y` on the control socket starts the handshake and the engine
 * answers with NUL-terminated SSL_* strings; from then on the plaintext
 * goes through the pipes.  The request and the handshake are src/lib/tlsreq's,
 * which postern-remote shares; every wait in them is bounded. */
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "smtpd.h"
#include "die.h"
#include "fmt.h"
#include "tlsreq.h"

#define HANDSHAKE_S 60    /* the engine's own limit for the handshake */

static int ctlfd = -1, readfd = -1, writefd = -1;
static int from_env;      /* the helper came from a UCSPI-TLS server */
static struct str why;    /* why the last step failed, for the log */

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

int tls_offer(void)
{
	struct stat st;
	if (from_env)
		return 1;
	return cfg.starttls && stat(tlsreq_path(), &st) == 0 && S_ISSOCK(st.st_mode);
}

/* Asks postern-tlsd for an engine for the client's connection (fds 0
 * and 1). */
static int tlsd_request(void)
{
	int fds[3];
	if (tlsreq_start("S", 1, 0, 1, fds, &why) == -1)
		return -1;
	ctlfd = fds[0];
	readfd = fds[1];
	writefd = fds[2];
	return 0;
}

int tls_helper(void)
{
	if (ctlfd != -1)
		return 0;
	if (!cfg.starttls) {
		if (!str_copys(&why, "control/starttls is 0"))
			die_nomem();
		return -1;
	}
	return tlsd_request();
}

int tls_start(struct tls_report *rep, int *rfd, int *wfd)
{
	if (tlsreq_handshake(ctlfd, HANDSHAKE_S, rep, &why) == -1)
		return -1;
	*rfd = readfd;
	*wfd = writefd;
	return 0;
}
