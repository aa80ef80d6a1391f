/* The per-client-address connection limit.  postern-listen counts
 * connections only globally (-c), and its children share no memory, so each
 * postern-smtpd claims one of `max` slots for its address by binding a
 * Linux abstract-namespace Unix socket named
 *     \0postern-smtpd/<local port>/<client ip>/<slot>
 * A bind is exclusive, needs no file and no write permission, and the kernel
 * frees the name when the process exits, however it exits: no counter can
 * leak.  Trade-off (doc/smtp.md): the names live in the network namespace,
 * so a local user could squat them to refuse one address (a local denial of
 * service only, never an access). */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "smtpd.h"
#include "fmt.h"

int perip_acquire(const char *ip, const char *port, unsigned long long max)
{
	int fd;
	unsigned long long slot;

	if (max == 0)
		return 1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return 1; /* cannot count: do not refuse a client for our own trouble */
	for (slot = 0; slot < max; slot++) {
		struct sockaddr_un sa;
		size_t n = 1, l;
		char num[FMT_ULONG];
		memset(&sa, 0, sizeof sa);
		sa.sun_family = AF_UNIX;
#define ADD(s, len) do { l = (len); if (l > sizeof sa.sun_path - n) l = sizeof sa.sun_path - n; \
	memcpy(sa.sun_path + n, (s), l); n += l; } while (0)
		ADD("postern-smtpd/", 14);
		ADD(port, strlen(port));
		ADD("/", 1);
		ADD(ip, strlen(ip));
		ADD("/", 1);
		ADD(num, fmt_ulong(num, slot));
#undef ADD
		if (bind(fd, (struct sockaddr *)&sa, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n)) == 0)
			return 1; /* fd stays open (close-on-exec) until we exit */
		if (errno != EADDRINUSE) {
			close(fd);
			return 1;
		}
	}
	close(fd);
	return 0;
}
