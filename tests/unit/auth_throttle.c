/* postern-auth's throttle (linked from its source): the count, the
 * window, the keys (IPv4, IPv6 by /64, IPv4-mapped), the bounded table. */
#include <stdio.h>
#include <string.h>
#include "check.h"
#include "postern-auth/throttle.c"

static void fail_n(const char *ip, int n, time_t now)
{
	while (n-- > 0)
		throttle_failed(ip, strlen(ip), now);
}

static int blocked(const char *ip, time_t now) { return throttle_blocked(ip, strlen(ip), now); }

int main(void)
{
	char ip[64];
	int i, evicted;

	throttle_init(0);
	fail_n("192.0.2.1", 50, 1000);
	CHECK(!blocked("192.0.2.1", 1000), "limit 0: never blocked");
	throttle_init(3);
	fail_n("192.0.2.1", 2, 1000);
	CHECK(!blocked("192.0.2.1", 1001), "two failures under a limit of 3: not blocked");
	fail_n("192.0.2.1", 1, 1002);
	CHECK(blocked("192.0.2.1", 1002), "the third: blocked");
	CHECK(blocked("192.0.2.1", 1000 + THROTTLE_WINDOW - 1), "still blocked at the window's last second");
	CHECK(!blocked("192.0.2.1", 1000 + THROTTLE_WINDOW), "free when the window from the first failure ends");
	fail_n("192.0.2.1", 1, 1000 + THROTTLE_WINDOW);
	CHECK(!blocked("192.0.2.1", 1000 + THROTTLE_WINDOW), "a failure after the window starts a new count");
	CHECK(!blocked("192.0.2.1", 999), "a clock before the window (never with a monotonic clock): not blocked");
	CHECK(!blocked("192.0.2.2", 1001), "another address: not blocked");

	fail_n("2001:db8:5::1", 3, 2000);
	CHECK(blocked("2001:db8:5::ffff", 2001) && blocked("2001:db8:5:0:1:2:3:4", 2001), "IPv6: the whole /64");
	CHECK(!blocked("2001:db8:5:1::1", 2001), "IPv6: not the next /64");
	fail_n("::ffff:198.51.100.7", 3, 2000);
	CHECK(blocked("198.51.100.7", 2001), "IPv4-mapped IPv6 counts as the IPv4 address");
	fail_n("", 10, 2000);
	CHECK(!blocked("", 2001), "no address: never counted");
	fail_n("not an address", 10, 2000);
	CHECK(!blocked("not an address", 2001), "an address that cannot be read: never counted");

	/* fill the table: the oldest window gives its slot up */
	for (i = 0; i < THROTTLE_SLOTS + 10; i++) {
		snprintf(ip, sizeof ip, "10.%d.%d.%d", (i >> 16) & 255, (i >> 8) & 255, i & 255);
		fail_n(ip, 3, 3000 + i);
	}
	CHECK(used == THROTTLE_SLOTS, "the table holds at most THROTTLE_SLOTS addresses");
	evicted = !blocked("10.0.0.0", 3000 + THROTTLE_SLOTS + 10);
	snprintf(ip, sizeof ip, "10.%d.%d.%d", ((THROTTLE_SLOTS + 9) >> 16) & 255, ((THROTTLE_SLOTS + 9) >> 8) & 255,
	         (THROTTLE_SLOTS + 9) & 255);
	CHECK(evicted && blocked(ip, 3000 + THROTTLE_SLOTS + 10), "the oldest gave its slot to the newest");
	return check_done();
}
