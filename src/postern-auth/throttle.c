/* Addresses that keep giving wrong passwords (doc/pop3.md, "Throttle").
 * After control/authfailures wrong answers from one address within
 * THROTTLE_WINDOW seconds of its first, its requests are answered Z
 * without a check until that window ends: a guesser from one address
 * gets no more answers, and no more of the one argon2id check at a time
 * that every login waits for.  An address counts by src/lib/ipkey.c's
 * key, as postern-listen's per-address limit does (an IPv6 one by its
 * /64), an IPv4-mapped IPv6 address as the IPv4 one.  A right password resets nothing: one known account would
 * otherwise clear the way for guesses at the others.  The table is
 * bounded; a new address takes the slot whose window began first. */
#include <arpa/inet.h>
#include <string.h>
#include "auth.h"
#include "ipkey.h"

#define THROTTLE_SLOTS 4096

struct slot {
	unsigned char key[IPKEY_LEN];
	unsigned long count;
	time_t since;
};
static struct slot slots[THROTTLE_SLOTS];
static size_t used;
static unsigned long long limit;

void throttle_init(unsigned long long failures) { limit = failures; }

/* The key of ip (n bytes, as the client program wrote it): 0 for an
 * address that cannot be read (an empty one: nothing to count). */
static int key_of(const char *ip, size_t n, unsigned char key[IPKEY_LEN])
{
	char s[REMOTEIP_MAX + 1];
	unsigned char b[16];
	static const unsigned char mapped[12] = { [10] = 0xff, [11] = 0xff };
	int family;

	if (n == 0 || n > REMOTEIP_MAX)
		return 0;
	memcpy(s, ip, n);
	s[n] = 0;
	family = memchr(s, ':', n) ? AF_INET6 : AF_INET;
	if (inet_pton(family, s, b) != 1)
		return 0;
	if (family == AF_INET6 && !memcmp(b, mapped, 12)) {
		/* ::ffff:192.0.2.1 is 192.0.2.1 written another way */
		ip_key(key, AF_INET, b + 12);
		return 1;
	}
	ip_key(key, family, b);
	return 1;
}

static struct slot *find(const unsigned char key[IPKEY_LEN])
{
	size_t i;
	for (i = 0; i < used; i++)
		if (!memcmp(slots[i].key, key, IPKEY_LEN))
			return &slots[i];
	return 0;
}

int throttle_blocked(const char *ip, size_t n, time_t now)
{
	unsigned char key[IPKEY_LEN];
	struct slot *s;

	if (!limit || !key_of(ip, n, key) || !(s = find(key)))
		return 0;
	if (now - s->since >= THROTTLE_WINDOW || now < s->since)
		return 0;
	return s->count >= limit;
}

void throttle_failed(const char *ip, size_t n, time_t now)
{
	unsigned char key[IPKEY_LEN];
	struct slot *s;
	size_t i;

	if (!limit || !key_of(ip, n, key))
		return;
	s = find(key);
	if (!s) {
		if (used < THROTTLE_SLOTS) {
			s = &slots[used++];
		} else {
			s = &slots[0];
			for (i = 1; i < used; i++)
				if (slots[i].since < s->since)
					s = &slots[i];
		}
		memcpy(s->key, key, IPKEY_LEN);
		s->count = 0;
		s->since = now;
	}
	if (now - s->since >= THROTTLE_WINDOW || now < s->since) {
		s->count = 0;
		s->since = now;
	}
	s->count++;
}
