/* The listening socket and the text forms of a connection's addresses. */
#ifndef POSTERN_LISTEN_NET_H
#define POSTERN_LISTEN_NET_H
#include <netinet/in.h>
#include <sys/socket.h>

#define IP_TEXT 46   /* INET6_ADDRSTRLEN */
#define PORT_TEXT 6

struct endpoint {
	int family;              /* AF_INET or AF_INET6 */
	unsigned char raw[16];   /* the address, network order */
	char ip[IP_TEXT];
	char port[PORT_TEXT];
};

/* Binds address:port (an IPv4 or IPv6 address; "0" is every IPv4
 * address, as for tcpserver) and listens.  The socket is non-blocking and
 * close-on-exec; an IPv6 socket takes IPv6 only.  The fd, or -1 with *why
 * naming the step that failed (errno set). */
int listen_tcp(const char *address, const char *port, int backlog, const char **why);
/* Fills *e from a socket address; 0 if it is neither IPv4 nor IPv6. */
int endpoint_of(const struct sockaddr_storage *, struct endpoint *e);
#endif
