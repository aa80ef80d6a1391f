#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include "net.h"
#include "fmt.h"

int listen_tcp(const char *address, const char *port, int backlog, const char **why)
{
	struct sockaddr_in v4;
	struct sockaddr_in6 v6;
	struct sockaddr *sa;
	socklen_t salen;
	unsigned long long p;
	int fd, one = 1;

	if (!scan_ulong_all(port, strlen(port), &p) || p == 0 || p > 65535) {
		*why = "not a port number";
		errno = EINVAL;
		return -1;
	}
	memset(&v4, 0, sizeof v4);
	memset(&v6, 0, sizeof v6);
	if (strcmp(address, "0") == 0 || inet_pton(AF_INET, address, &v4.sin_addr) == 1) {
		v4.sin_family = AF_INET;
		v4.sin_port = htons((unsigned short)p);
		sa = (struct sockaddr *)&v4;
		salen = sizeof v4;
	} else if (inet_pton(AF_INET6, address, &v6.sin6_addr) == 1) {
		v6.sin6_family = AF_INET6;
		v6.sin6_port = htons((unsigned short)p);
		sa = (struct sockaddr *)&v6;
		salen = sizeof v6;
	} else {
		*why = "not an IPv4 or IPv6 address";
		errno = EINVAL;
		return -1;
	}
	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		*why = "unable to create a socket";
		return -1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == -1 ||
	    (sa->sa_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) == -1)) {
		*why = "unable to set socket options";
		goto fail;
	}
	if (bind(fd, sa, salen) == -1) {
		*why = "unable to bind";
		goto fail;
	}
	if (listen(fd, backlog) == -1) {
		*why = "unable to listen";
		goto fail;
	}
	return fd;
fail:
	{
		int e = errno;
		close(fd);
		errno = e;
	}
	return -1;
}

int endpoint_of(const struct sockaddr_storage *ss, struct endpoint *e)
{
	unsigned short port;

	memset(e, 0, sizeof *e);
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)ss;
		memcpy(e->raw, &s->sin_addr, 4);
		port = ntohs(s->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)ss;
		memcpy(e->raw, &s->sin6_addr, 16);
		port = ntohs(s->sin6_port);
	} else {
		return 0;
	}
	e->family = ss->ss_family;
	if (!inet_ntop(e->family, e->raw, e->ip, sizeof e->ip))
		return 0;
	e->port[fmt_ulong(e->port, port)] = 0;
	return 1;
}
