/* Outbound STARTTLS's engine: postern-remote holds no TLS stack and no
 * trust store.  postern-tlsd starts postern-tlsio in client mode on our
 * connected socket (doc/tls.md, the C request); the session then speaks
 * through the plaintext pipes it hands back.  The request is made before
 * STARTTLS is sent: the engine reads nothing from the network until we
 * write Y, and an engine that cannot be had is known while the session
 * can still go on in clear (policy may). */
#include <fcntl.h>
#include <string.h>
#include "remote.h"
#include "die.h"
#include "servername.h"

int tls_client_engine(int fd, enum tls_policy pol, const struct addr *a, int fds[3], struct str *why)
{
	char req[2 + SERVER_NAME_MAX + TLSA_LIST_MAX];
	/* under dane, the TLSA base name (RFC 7672 2.2.3, 3.2.2) */
	const char *name = pol == TLS_DANE && a->tlsa_name[0] ? a->tlsa_name : a->host;
	size_t n = strlen(name), len;

	if (!server_name_ok(name, n)) {
		/* an address literal: there is no name to send as SNI, nor one a
		 * certificate could be checked against */
		if (!str_copys(why, "no host name to give TLS (an address literal, or a name TLS cannot carry)"))
			die_nomem();
		return -1;
	}
	req[0] = 'C';
	/* MTA-STS testing: may, with the chain judged all the same, so that
	 * the log can say what enforce would have made of it */
	req[1] = pol == TLS_VERIFY ? 'v' : pol == TLS_DANE ? 'd' : pol == TLS_MAY && a->sts_testing ? 't' : 'e';
	memcpy(req + 2, name, n);
	len = 2 + n;
	if (pol == TLS_DANE) {
		/* the name, then NUL and a record for each (doc/tls.md) */
		req[len++] = 0;
		memcpy(req + len, a->tlsa, a->tlsa_len - 1); /* the last NUL is not sent */
		len += a->tlsa_len - 1;
	}
	return tlsreq_start(req, len, fd, fd, fds, why);
}

int tls_client_switch(int rfd, int wfd)
{
	/* non-blocking, as the socket was: io's timeouts poll, and a blocking
	 * write of a full buffer into a pipe whose engine has stalled would
	 * wait past every one of them */
	int i, fds[2] = { rfd, wfd };
	for (i = 0; i < 2; i++) {
		int fl = fcntl(fds[i], F_GETFL);
		if (fl == -1 || fcntl(fds[i], F_SETFL, fl | O_NONBLOCK) == -1)
			return -1;
	}
	return 0;
}
