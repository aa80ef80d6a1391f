/* The seam for outbound STARTTLS.  When postern-tlsd exists, this forks it
 * in client mode on the connected socket (UCSPI-TLS, doc/architecture.md):
 * the session then reads and writes the plaintext pipes it hands back in
 * *rfd and *wfd, and starts over with EHLO.  Until then it reports that TLS
 * is not available, and postern-remote never issues STARTTLS. */
#include <errno.h>
#include "remote.h"

int tls_client_start(int *rfd, int *wfd, const char *host)
{
	(void)rfd;
	(void)wfd;
	(void)host;
	errno = ENOSYS;
	return -1;
}
