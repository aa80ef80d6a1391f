/* postern-remote's test for "this is us" (src/postern-remote/localip.c):
 * loopback and unspecified addresses of both families, this machine's own
 * interface addresses, and the same written as IPv4 inside IPv6
 * (::ffff:127.0.0.1 is 127.0.0.1 to an AF_INET6 socket), which a hostile
 * DNS answer could otherwise use to point delivery back at us. */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <string.h>
#include "check.h"
#include "postern-remote/localip.c"

static struct addr from(const char *text)
{
	struct addr a;
	memset(&a, 0, sizeof a);
	if (inet_pton(AF_INET, text, a.a) == 1)
		a.af = AF_INET;
	else if (inet_pton(AF_INET6, text, a.a) == 1)
		a.af = AF_INET6;
	return a;
}

static int local(const char *text)
{
	struct addr a = from(text);
	return a.af && addr_is_local(&a);
}

int main(void)
{
	struct ifaddrs *ifs, *i;
	char own[INET_ADDRSTRLEN] = "", mapped[64];

	CHECK(local("127.0.0.1") && local("127.3.4.5") && local("0.0.0.0"), "IPv4 loopback and 0/8");
	CHECK(local("::1") && local("::"), "IPv6 loopback and unspecified");
	CHECK(local("::ffff:127.0.0.1") && local("::ffff:127.9.9.9") && local("::ffff:0.0.0.0"),
	      "IPv4-mapped loopback (::ffff:127.0.0.1) is loopback");
	CHECK(local("::127.0.0.1"), "IPv4-compatible loopback (::127.0.0.1) is loopback");
	CHECK(!local("192.0.2.1") && !local("::ffff:192.0.2.1") && !local("2001:db8::1"),
	      "documentation addresses, plain or mapped, are not us");
	/* one of this machine's own IPv4 addresses, other than loopback */
	if (getifaddrs(&ifs) == 0) {
		for (i = ifs; i && !own[0]; i = i->ifa_next)
			if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET &&
			    ((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr.s_addr != htonl(INADDR_LOOPBACK))
				inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr, own, sizeof own);
		freeifaddrs(ifs);
	}
	if (own[0]) {
		memcpy(mapped, "::ffff:", 7);
		memcpy(mapped + 7, own, strlen(own) + 1);
		CHECK(local(own) && local(mapped), "this machine's own IPv4 address, plain and mapped");
	} else
		CHECK(1, "no IPv4 address but loopback here: the own-address check skipped");
	return check_done();
}
