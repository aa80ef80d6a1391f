/* STLS (RFC 2595): the application side of UCSPI-TLS, as in postern-smtpd
 * (doc/tls.md).  postern-popup holds no TLS code and no key: at STLS it
 * asks postern-tlsd for an engine over HOME/run/tlsd/socket, and from the
 * handshake on the plaintext goes through the engine's pipes.  Those
 * pipes, not the socket, are what postern-pop3d gets after the login. */
#include <sys/stat.h>
#include <unistd.h>
#include "popup.h"

#define HANDSHAKE_S 60 /* the engine's own limit for the handshake */

static int ctlfd = -1, readfd = -1, writefd = -1;

int tls_offer(void)
{
	struct stat st;
	return cfg.starttls && stat(tlsreq_path(), &st) == 0 && S_ISSOCK(st.st_mode);
}

int tls_begin(struct str *why)
{
	int fds[3];

	if (tlsreq_start("S", 1, 0, 1, fds, why) == -1)
		return -1;
	ctlfd = fds[0];
	readfd = fds[1];
	writefd = fds[2];
	return 0;
}

int tls_handshake(struct tls_report *rep, int *rfd, int *wfd, struct str *why)
{
	if (tlsreq_handshake(ctlfd, HANDSHAKE_S, rep, why) == -1)
		return -1;
	/* the engine closes its end after the report: ours has nothing more
	 * to say, and must not reach postern-pop3d */
	(void)close(ctlfd);
	ctlfd = -1;
	*rfd = readfd;
	*wfd = writefd;
	return 0;
}
