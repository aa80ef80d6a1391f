/* libFuzzer target for postern-smtpd's blocklist answers and zone lines
 * (src/postern-smtpd/dnsblwire.c, src/lib/dnswire.c).  The first byte picks: odd, the rest is a
 * line of control/dnsbl; even, the rest is a datagram from the resolver's
 * address, read as the answer to a fixed query whose id is its first two
 * bytes (so that the fuzzer reaches past the id check), asked for the type
 * its third picks.  Besides the
 * sanitizers' checks it asserts what dnsbl.c relies on: a taken line has
 * a zone of 1 to DNSBL_ZONE_MAX bytes, lower case, every listed address's
 * name fits the 256 bytes dnsbl.c gives it and makes a query; an answer
 * taken has the query's id and question and an RCODE of 0 to 15, at most
 * DNS_ANSWER_ADDRS addresses, no records counted unless the RCODE is 0,
 * and a judgement that names one of them. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "dnsblwire.h"

static void line(const uint8_t *d, size_t n)
{
	static const unsigned char v4[4] = { 255, 255, 255, 255 }, v6[16] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	                                                                      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct dnsbl_zone z;
	const char *why = 0;
	char s[512], name[256];
	unsigned char q[DNS_QUERY_MAX];
	size_t zl, i;

	if (n >= sizeof s)
		return;
	memcpy(s, d, n);
	s[n] = 0;
	if (dnsbl_zone_parse(s, &z, &why) == -1) {
		if (!why || !*why)
			abort();
		return;
	}
	zl = strlen(z.name);
	if (zl == 0 || zl > DNSBL_ZONE_MAX || z.ncodes > DNSBL_CODES_MAX)
		abort();
	for (i = 0; i < zl; i++)
		if (z.name[i] >= 'A' && z.name[i] <= 'Z')
			abort();
	if (dns_reverse_name(name, sizeof name, v4, 4, z.name) == -1 || !dns_query(q, sizeof q, 1, name, DNS_T_A))
		abort();
	if (dns_reverse_name(name, sizeof name, v6, 16, z.name) == -1 || !dns_query(q, sizeof q, 1, name, DNS_T_A))
		abort();
}

/* Every record's data read as a name, as SPF reads MX and PTR targets. */
static int each_name(void *ctx, unsigned type, const unsigned char *m, size_t len, size_t rd, size_t rdlen)
{
	char name[256];
	int l;

	(void)ctx;
	(void)type;
	if (rd + rdlen > len)
		abort();
	l = dns_name(m, len, rd, name, sizeof name);
	if (l != -1 && ((size_t)l >= sizeof name || strlen(name) != (size_t)l || memchr(name, ' ', (size_t)l)))
		abort();
	return 0;
}

static void answer(const uint8_t *d, size_t n)
{
	static const struct dnsbl_zone z = { "bl.test", { { 0 } }, 0 };
	unsigned char q[DNS_QUERY_MAX];
	struct dns_rrs rrs;
	size_t ql, which;
	int r;

	if (n < 3)
		return;
	/* the third byte picks the type asked: A, or MX as for a sender's domain */
	ql = dns_query(q, sizeof q, (uint16_t)(d[0] << 8 | d[1]), d[2] & 1 ? "example.org" : "2.0.0.127.bl.test",
	               d[2] & 1 ? DNS_T_MX : DNS_T_A);
	if (!ql)
		abort();
	if (d[2] & 2) {
		/* as SPF asks: with EDNS0, every record's data read as a name */
		int flags;
		if (!(ql = dns_edns(q, ql, sizeof q)))
			abort();
		r = dns_records(d + 3, n - 3, q, ql, &flags, each_name, 0);
		if (r < -1 || r > 15 || flags & ~(DNS_TRUNCATED | DNS_LAME))
			abort();
		return;
	}
	r = dns_answer(d + 3, n - 3, q, ql, &rrs);
	if (r == -1)
		return;
	if (r < 0 || r > 15 || rrs.na > DNS_ANSWER_ADDRS || n - 3 < ql || memcmp(d + 3, q, 2) != 0)
		abort();
	if (r != 0 && (rrs.na || rrs.naaaa || rrs.nmx || rrs.null_mx))
		abort();
	if (dnsbl_judge(&z, rrs.a, rrs.na, &which) != DNSBL_CLEAN && which >= rrs.na)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	if (n == 0)
		return 0;
	if (d[0] & 1)
		line(d + 1, n - 1);
	else
		answer(d + 1, n - 1);
	return 0;
}
