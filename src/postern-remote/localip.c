/* Addresses of this host: a message sent to one of them would come back
 * to us (a mail loop), so addresses from MX or A records are skipped when
 * they are ours.  A route in control/smtproutes that names an address is
 * trusted: the admin meant it (tests deliver to loopback that way). */
#include <ifaddrs.h>
#include <string.h>
#include <sys/socket.h>
#include "remote.h"

int addr_is_local(const struct addr *a)
{
	static const unsigned char v6lo[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
	static const unsigned char zero[16];
	struct ifaddrs *ifs, *i;
	int hit = 0;

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
