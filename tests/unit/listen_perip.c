/* postern-listen's per-address count (src/postern-listen/perip.c): keys of
 * both families, IPv6 by its /64, and long random runs of adds and deletes
 * against a plain array, with the table as full as -c lets it be, so the
 * backward shift of a delete is exercised over wrapped runs. */
#include <arpa/inet.h>
#include <string.h>
#include "check.h"
#include "postern-listen/perip.c"

static size_t count_of(const char *ip)
{
	unsigned char a[16];
	struct perip_key k;
	int fam = strchr(ip, ':') ? AF_INET6 : AF_INET;

	if (inet_pton(fam, ip, a) != 1)
		return (size_t)-1;
	perip_key(&k, fam, a);
	return perip_count(&k);
}

static void add(const char *ip, int del)
{
	unsigned char a[16];
	struct perip_key k;
	int fam = strchr(ip, ':') ? AF_INET6 : AF_INET;

	if (inet_pton(fam, ip, a) != 1)
		return;
	perip_key(&k, fam, a);
	if (del)
		perip_del(&k);
	else
		perip_add(&k);
}

#define LIVE 1000
#define POOL 64 /* distinct addresses: many connections share each */

int main(void)
{
	static struct perip_key pool[POOL], live[LIVE];
	static size_t want[POOL];
	size_t nlive = 0, i, steps, bad = 0;

	CHECK(perip_init(LIVE), "a table for 1000 connections");
	CHECK(count_of("192.0.2.1") == 0, "an address never seen counts 0");
	add("192.0.2.1", 0);
	add("192.0.2.1", 0);
	add("192.0.2.2", 0);
	CHECK(count_of("192.0.2.1") == 2 && count_of("192.0.2.2") == 1 && count_of("192.0.2.3") == 0,
	      "IPv4 addresses count one by one");
	add("2001:db8:1:2::1", 0);
	add("2001:db8:1:2:ffff:ffff:ffff:ffff", 0);
	CHECK(count_of("2001:db8:1:2::77") == 2, "IPv6 addresses of one /64 count together");
	CHECK(count_of("2001:db8:1:3::1") == 0, "the next /64 is another client");
	CHECK(count_of("::ffff:192.0.2.1") == 0 && count_of("c000:201::") == 0,
	      "an IPv6 address never shares a count with the IPv4 address in its bytes");
	add("192.0.2.1", 1);
	CHECK(count_of("192.0.2.1") == 1, "a connection ended: one less");
	add("192.0.2.1", 1);
	add("192.0.2.1", 1);
	CHECK(count_of("192.0.2.1") == 0 && count_of("192.0.2.2") == 1, "never below 0, and others untouched");
	add("192.0.2.2", 1);
	add("2001:db8:1:2::1", 1);
	add("2001:db8:1:2::1", 1);

	/* Random runs against a plain count, at up to LIVE live connections. */
	CHECK(perip_init(LIVE), "a fresh table");
	for (i = 0; i < POOL; i++) {
		unsigned char a[16];
		unsigned long long r = rnd();
		memcpy(a, &r, 8);
		r = rnd();
		memcpy(a + 8, &r, 8);
		perip_key(&pool[i], i % 3 ? AF_INET : AF_INET6, a);
	}
	for (steps = 0; steps < 300000; steps++) {
		size_t p = (size_t)(rnd() % POOL);
		int grow = nlive < LIVE && (nlive == 0 || rnd() % 100 < 55);
		if (grow) {
			perip_add(&pool[p]);
			live[nlive++] = pool[p];
			want[p]++;
		} else {
			size_t j = (size_t)(rnd() % nlive), q;
			for (q = 0; memcmp(&pool[q], &live[j], sizeof live[j]) != 0; q++) {}
			perip_del(&live[j]);
			want[q]--;
			live[j] = live[--nlive];
		}
		if (steps % 97 == 0)
			for (i = 0; i < POOL; i++)
				if (perip_count(&pool[i]) != want[i])
					bad++;
	}
	CHECK(bad == 0, "300,000 random adds and deletes: every count as a plain array has it");

	/* Distinct keys, as many as the table is sized for, then all deleted
	 * in another order: every delete shifts a run that wraps the table. */
	CHECK(perip_init(LIVE), "a fresh table again");
	for (i = 0; i < LIVE; i++) {
		unsigned char a[4] = { 10, (unsigned char)(i >> 16), (unsigned char)(i >> 8), (unsigned char)i };
		perip_key(&live[i], AF_INET, a);
		perip_add(&live[i]);
	}
	for (i = 0, bad = 0; i < LIVE; i++)
		if (perip_count(&live[i]) != 1)
			bad++;
	CHECK(bad == 0, "1000 distinct addresses: each counts 1");
	for (i = 0, bad = 0; i < LIVE; i++) {
		static int gone[LIVE];
		size_t j, k = (i * 7) % LIVE; /* 7 and 1000 share no factor: each once */
		perip_del(&live[k]);
		gone[k] = 1;
		for (j = 0; j < LIVE; j += 1 + i % 13)
			if (perip_count(&live[j]) != (gone[j] ? 0u : 1u))
				bad++;
	}
	CHECK(bad == 0, "deleted in a scattered order: each goes to 0, every other stays 1");
	for (i = 0, bad = 0; i < LIVE; i++)
		if (perip_count(&live[i]) != 0)
			bad++;
	CHECK(bad == 0, "and the table is empty after");
	return check_done();
}
