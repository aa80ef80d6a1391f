/* Addresses of this host: a message sent to one of them would come back
 * to us (a mail loop), so addresses from MX or A records are skipped when
 * they are ours.  A route in control/smtproutes that names an address is
 * trusted: the admin meant it (tests deliver to loopback that way). */
#include <ifaddrs.h>
#include <string.h>
#include <sys/socket.h>
#include "remote.h"

/* ::ffff:a.b.c.d (v4-mapped) and ::a.b.c.d (v4-compatible): an AF_INET6
 * socket connects to a mapped one over IPv4 (bindv6only is 0 by default),
 * so a DNS answer of ::ffff:127.0.0.1 must be judged as 127.0.0.1. */
static int v4_inside(const struct addr *a, struct addr *v4)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	static const unsigned char zero[12];

	if (a->af != AF_INET6 || (memcmp(a->a, mapped, 12) != 0 && memcmp(a->a, zero, 12) != 0))
		return 0;
	if (memcmp(a->a, zero, 12) == 0 && a->a[12] == 0 && a->a[13] == 0 && a->a[14] == 0 && a->a[15] <= 1)
		return 0; /* :: and ::1 are IPv6's own */
	memset(v4, 0, sizeof *v4);
	v4->af = AF_INET;
	memcpy(v4->a, a->a + 12, 4);
	return 1;
}

int addr_is_local(const struct addr *a)
{
	static const unsigned char v6lo[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
	static const unsigned char zero[16];
	struct ifaddrs *ifs, *i;
	struct addr v4;
	int hit = 0;

	if (v4_inside(a, &v4))
		return addr_is_local(&v4);
	if (a->af == AF_INET && (a->a[0] == 127 || a->a[0] == 0))
		return 1;
	if (a->af == AF_INET6 && (memcmp(a->a, v6lo, 16) == 0 || memcmp(a->a, zero, 16) == 0))
		return 1;
	if (getifaddrs(&ifs) == -1)
		return 0; /* cannot tell: the remote end will refuse a loop itself */
	for (i = ifs; i && !hit; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != a->af)
			continue;
		if (a->af == AF_INET)
			hit = memcmp(&((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr, a->a, 4) == 0;
		else
			hit = memcmp(&((struct sockaddr_in6 *)(void *)i->ifa_addr)->sin6_addr, a->a, 16) == 0;
	}
	freeifaddrs(ifs);
	return hit;
}
