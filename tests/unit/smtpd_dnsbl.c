/* postern-smtpd's DNS blocklist bytes (src/postern-smtpd/dnsblwire.c, and
 * src/lib/dnswire.c under them): the
 * zone lines, the reversed names, the query, and answers good and hostile. */
#include <arpa/inet.h>
#include <string.h>
#include "check.h"
#include "postern-smtpd/dnsblwire.c"

static struct dnsbl_zone z;
static const char *why;

static int zone(const char *line) { return dnsbl_zone_parse(line, &z, &why); }

static int qname(const char *ip, const char *zn, const char *want)
{
	unsigned char bin[16];
	char out[256];
	size_t l = strchr(ip, ':') ? 16 : 4;
	if (inet_pton(l == 16 ? AF_INET6 : AF_INET, ip, bin) != 1)
		return 0;
	if (dns_reverse_name(out, sizeof out, bin, l, zn) == -1)
		return want == 0;
	return want && !strcmp(out, want);
}

/* An answer to query q: its header with flags, rcode and counts, the
 * question copied, then the records given as raw bytes. */
static size_t answer(unsigned char *m, const unsigned char *q, size_t ql, unsigned flags, unsigned ancount,
                     const unsigned char *rr, size_t rrl)
{
	memcpy(m, q, ql);
	m[2] = (unsigned char)(flags >> 8);
	m[3] = (unsigned char)flags;
	m[6] = (unsigned char)(ancount >> 8);
	m[7] = (unsigned char)ancount;
	if (rrl)
		memcpy(m + ql, rr, rrl);
	return ql + rrl;
}

/* dns_answer, with its A records in a and na, the TC bit in tc. */
static struct dns_rrs rrs;
static unsigned char (*a)[4] = rrs.a;
static size_t na;
static int tc;
static int answer_a(const unsigned char *m, size_t len, const unsigned char *q, size_t qlen)
{
	int r = dns_answer(m, len, q, qlen, &rrs);
	na = rrs.na;
	tc = rrs.truncated;
	return r;
}

/* An A record owned by the question's name (a pointer to offset 12). */
#define A_RR(a, b, c, d) 0xc0, 12, 0, 1, 0, 1, 0, 0, 1, 0x2c, 0, 4, a, b, c, d

static int count_records(void *ctx, unsigned type, const unsigned char *m, size_t len, size_t rd, size_t rdlen)
{
	(void)type;
	(void)m;
	(void)len;
	(void)rd;
	(void)rdlen;
	++*(int *)ctx;
	return 0;
}

int main(void)
{
	unsigned char q[DNS_QUERY_MAX], m[1024];
	size_t ql, ml, which, i;

	/* zones */
	CHECK(zone("zen.example.org") == 0 && !strcmp(z.name, "zen.example.org") && z.ncodes == 0, "a plain zone");
	CHECK(zone("Zen.Example.ORG.") == 0 && !strcmp(z.name, "zen.example.org"), "case folded, trailing dot let go");
	CHECK(zone("bl.test=127.0.0.2,127.0.0.4") == 0 && z.ncodes == 2 && z.codes[1].lo[3] == 4 && z.codes[1].hi[3] == 4,
	      "answer codes");
	CHECK(zone("bl.test=127.0.[0..255].[1..3],127.0.0.[2..11]") == 0 && z.ncodes == 2 && z.codes[0].lo[2] == 0 &&
	      z.codes[0].hi[2] == 255 && z.codes[0].lo[3] == 1 && z.codes[0].hi[3] == 3 && z.codes[1].hi[3] == 11,
	      "ranges");
	CHECK(zone("bl.test=127.0.0.[3..2]") == -1 && zone("bl.test=127.0.0.[2..]") == -1 &&
	      zone("bl.test=127.0.0.[2.11]") == -1 && zone("bl.test=127.0.0.[2..11") == -1 &&
	      zone("bl.test=127.0.0.2.5") == -1 && zone("bl.test=127.0.0") == -1 && zone("bl.test=127.0.0.0002") == -1 &&
	      zone("bl.test=127.0.0.+2") == -1 && zone("bl.test=127.0.0.[0..256]") == -1, "bad ranges refused");
	CHECK(zone("bl.test=127.0.0.02") == -1 && zone("bl.test=127.0.0.010") == -1 && zone("bl.test=000.0.0.2") == -1 &&
	      zone("bl.test=127.0.0.[01..3]") == -1 && zone("bl.test=127.0.0.0") == 0, "leading zeros refused, 0 taken");
	CHECK(zone("bl.test=[100..255].[100..255].[100..255].[100..255]") == 0 && z.codes[0].lo[0] == 100,
	      "the longest code (43 bytes)");
	CHECK(zone("") == -1 && zone(".") == -1 && zone("a..b") == -1 && zone(".a") == -1, "empty labels refused");
	CHECK(zone("bl test") == -1 && zone("bl_x.test") == -1 && zone("bl\xc3\xa9.test") == -1, "odd bytes refused");
	CHECK(zone("bl.test=") == -1 && zone("bl.test=127.0.0.2,") == -1 && zone("bl.test=127.0.0.256") == -1 &&
	      zone("bl.test=::1") == -1 && zone("bl.test=127.0.0.2,,127.0.0.3") == -1, "bad answer codes refused");
	CHECK(zone("=127.0.0.2") == -1, "codes without a zone refused");
	{
		char big[300];
		memset(big, 'a', 63);
		big[63] = 0;
		CHECK(zone(big) == 0, "a 63-byte label");
		memset(big, 'a', 64);
		big[64] = 0;
		CHECK(zone(big) == -1, "a 64-byte label refused");
		for (i = 0; i < 189; i++)
			big[i] = i % 10 == 9 ? '.' : 'b';
		big[189] = 0;
		CHECK(zone(big) == 0, "a 189-byte zone");
		big[189] = 'b';
		big[190] = 0;
		CHECK(zone(big) == -1, "a 190-byte zone refused");
	}
	CHECK(zone("bl.test=1.1.1.1,1.1.1.2,1.1.1.3,1.1.1.4,1.1.1.5,1.1.1.6,1.1.1.7,1.1.1.8,1.1.1.9,1.1.1.10,"
	           "1.1.1.11,1.1.1.12,1.1.1.13,1.1.1.14,1.1.1.15,1.1.1.16") == 0 && z.ncodes == 16, "16 codes");
	CHECK(zone("bl.test=1.1.1.1,1.1.1.2,1.1.1.3,1.1.1.4,1.1.1.5,1.1.1.6,1.1.1.7,1.1.1.8,1.1.1.9,1.1.1.10,"
	           "1.1.1.11,1.1.1.12,1.1.1.13,1.1.1.14,1.1.1.15,1.1.1.16,1.1.1.17") == -1, "17 codes refused");

	{
		struct str n = STR_INIT;
		CHECK(dns_domain_name("Example.org", 11, &n) && str_equals(&n, "Example.org") &&
		      !dns_domain_name("", 0, &n) && !dns_domain_name("[192.0.2.1]", 11, &n),
		      "a domain is asked as it is; not an empty one or a literal");
		CHECK(dns_domain_name("b\xc3\xbc" "cher.test", 12, &n) == 1 && str_equals(&n, "xn--bcher-kva.test") &&
		      dns_domain_name("b\xc3" "cher.test", 11, &n) == -1 && dns_domain_name("-\xc3\xbc.test", 8, &n) == -1,
		      "a UTF-8 domain by its A-labels; -1 for one that is no UTF-8 or no valid label");
		str_free(&n);
	}

	/* names (RFC 5782 2.1, 2.4) */
	CHECK(qname("192.0.2.99", "bl.test", "99.2.0.192.bl.test"), "IPv4 reversed");
	CHECK(qname("127.0.0.2", "bl.test", "2.0.0.127.bl.test"), "the test entry");
	CHECK(qname("2001:db8:1:2:3:4:567:89ab", "bl.test",
	            "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.bl.test"), "IPv6 nibbles (RFC 5782 2.4)");
	{
		unsigned char ip[4] = { 1, 2, 3, 4 };
		char out[20];
		CHECK(dns_reverse_name(out, sizeof out, ip, 4, "bl.test") == 0 && !strcmp(out, "4.3.2.1.bl.test"), "fits exactly");
		CHECK(dns_reverse_name(out, 15, ip, 4, "bl.test") == -1, "one byte short refused");
		CHECK(dns_reverse_name(out, sizeof out, ip, 5, "bl.test") == -1, "an address of 5 bytes refused");
	}

	/* the query */
	ql = dns_query(q, sizeof q, 0xbeef, "2.0.0.127.bl.test", DNS_T_A);
	CHECK(ql == 12 + 19 + 4 && q[0] == 0xbe && q[1] == 0xef && q[2] == 1 && q[5] == 1 &&
	      !memcmp(q + 12, "\0012\0010\0010\003127\002bl\004test\0\0\001\0\001", 23), "query bytes");
	CHECK(dns_query(m, sizeof m, 1, "a..b", DNS_T_A) == 0 && dns_query(m, sizeof m, 1, "a.b.", DNS_T_A) == 0 &&
	      dns_query(m, sizeof m, 1, "", DNS_T_A) == 0 && dns_query(m, 20, 1, "abcdefgh.test", DNS_T_A) == 0, "no query for a bad name");

	/* answers */
	{
		static const unsigned char one[] = { A_RR(127, 0, 0, 2) };
		static const unsigned char two[] = { A_RR(127, 0, 0, 4), A_RR(127, 0, 0, 10) };
		/* a CNAME on the way, then the A at the target (a name written out) */
		static const unsigned char cname[] = { 0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 9, 0, 4, 1, 'x', 0xc0, 12,
		                                       1, 'x', 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 9, 0, 4, 127, 0, 0, 3 };
		ml = answer(m, q, ql, 0x8180, 1, one, sizeof one);
		CHECK(answer_a(m, ml, q, ql) == 0 && na == 1 && a[0][3] == 2 && !tc, "one A");
		ml = answer(m, q, ql, 0x8180, 2, two, sizeof two);
		CHECK(answer_a(m, ml, q, ql) == 0 && na == 2 && a[1][3] == 10, "two A");
		ml = answer(m, q, ql, 0x8180, 2, cname, sizeof cname);
		CHECK(answer_a(m, ml, q, ql) == 0 && na == 1 && a[0][3] == 3, "through a CNAME");
		ml = answer(m, q, ql, 0x8183, 0, 0, 0);
		CHECK(answer_a(m, ml, q, ql) == 3 && na == 0, "NXDOMAIN");
		ml = answer(m, q, ql, 0x8182, 0, 0, 0);
		CHECK(answer_a(m, ml, q, ql) == 2, "SERVFAIL");
		ml = answer(m, q, ql, 0x8380, 0, 0, 0);
		CHECK(answer_a(m, ml, q, ql) == 0 && tc, "TC seen");
		ml = answer(m, q, ql, 0x8380, 2, one, sizeof one);
		CHECK(answer_a(m, ml, q, ql) == 0 && tc && na == 1, "TC: the records that are whole taken");
		ml = answer(m, q, ql, 0x8180, 2, one, sizeof one);
		CHECK(answer_a(m, ml, q, ql) == -1, "without TC, a record counted that is not there refuses it");
		ml = answer(m, q, ql, 0x8100, 0, 0, 0);
		CHECK(answer_a(m, ml, q, ql) == 0 && rrs.lame, "neither RA nor AA: lame");
		ml = answer(m, q, ql, 0x8500, 0, 0, 0);
		CHECK(answer_a(m, ml, q, ql) == 0 && !rrs.lame, "AA: the domain's own server");
		ml = answer(m, q, ql, 0x8180, 1, one, sizeof one);
		m[1] ^= 1;
		CHECK(answer_a(m, ml, q, ql) == -1, "another id");
		m[1] ^= 1;
		m[2] &= 0x7f;
		CHECK(answer_a(m, ml, q, ql) == -1, "a query, not a response");
		m[2] |= 0x80 | 0x08;
		CHECK(answer_a(m, ml, q, ql) == -1, "another opcode");
		ml = answer(m, q, ql, 0x8180, 1, one, sizeof one);
		m[14] = '3';
		CHECK(answer_a(m, ml, q, ql) == -1, "another question");
		m[14] = '2';
		m[15] = 'B';
		CHECK(answer_a(m, ml, q, ql) == -1, "a length byte changed");
		ml = answer(m, q, ql, 0x8180, 1, one, sizeof one);
		m[23] = 'B'; m[24] = 'L';
		CHECK(answer_a(m, ml, q, ql) == 0 && na == 1, "the question's case ignored");
		ml = answer(m, q, ql, 0x8180, 1, one, sizeof one);
		m[5] = 2;
		CHECK(answer_a(m, ml, q, ql) == -1, "two questions");
		ml = answer(m, q, ql, 0x8180, 2, one, sizeof one);
		CHECK(answer_a(m, ml, q, ql) == -1, "a record counted that is not there");
		ml = answer(m, q, ql, 0x8180, 1, one, sizeof one);
		for (i = 0; i < ml; i++)
			if (answer_a(m, i, q, ql) != -1)
				break;
		CHECK(i == ml, "every truncation of an answer refused");
		ml = answer(m, q, ql, 0x8180, 1, one, sizeof one);
		m[ml - 5] = 5;
		CHECK(answer_a(m, ml, q, ql) == -1, "an A whose length is not 4");
		ml = answer(m, q, ql, 0x8180, 1, one, sizeof one);
		m[ql] = 0x80;
		CHECK(answer_a(m, ml, q, ql) == -1, "an extended label type");
		{
			unsigned char many[20 * 16];
			for (i = 0; i < 20; i++) {
				const unsigned char rr[] = { A_RR(127, 0, 0, (unsigned char)i) };
				memcpy(many + 16 * i, rr, 16);
			}
			ml = answer(m, q, ql, 0x8180, 20, many, sizeof many);
			CHECK(answer_a(m, ml, q, ql) == 0 && na == DNS_ANSWER_ADDRS, "20 A records: 16 kept");
		}
		CHECK(answer_a(m, 11, q, ql) == -1 && answer_a(m, ml, q, 12) == -1,
		      "short header or empty question refused");
	}

	/* other types: MX, AAAA, the null MX (RFC 7505) */
	{
		static const unsigned char nx_with_a[] = { A_RR(127, 0, 0, 2) };
		static const unsigned char mx[] = { 0xc0, 12, 0, 15, 0, 1, 0, 0, 1, 0, 0, 7, 0, 10, 2, 'm', 'x', 0xc0, 12,
		                                    0xc0, 12, 0, 15, 0, 1, 0, 0, 1, 0, 0, 3, 0, 0, 0 };
		static const unsigned char aaaa[] = { 0xc0, 12, 0, 28, 0, 1, 0, 0, 1, 0, 0, 16, 0x20, 1, 0xd, 0xb8, 0, 0, 0,
		                                      0, 0, 0, 0, 0, 0, 0, 0, 1 };
		static const unsigned char short_mx[] = { 0xc0, 12, 0, 15, 0, 1, 0, 0, 1, 0, 0, 2, 0, 10 };
		static const unsigned char long_aaaa[] = { 0xc0, 12, 0, 28, 0, 1, 0, 0, 1, 0, 0, 4, 1, 2, 3, 4 };
		static const unsigned char chaos_a[] = { 0xc0, 12, 0, 1, 0, 3, 0, 0, 1, 0, 0, 4, 127, 0, 0, 2 };
		unsigned char qm[DNS_QUERY_MAX];
		size_t qml = dns_query(qm, sizeof qm, 7, "example.org", DNS_T_MX);
		CHECK(qml == 12 + 13 + 4 && qm[qml - 3] == 15 && qm[qml - 1] == 1, "an MX query");
		ml = answer(m, q, ql, 0x8183, 1, nx_with_a, sizeof nx_with_a);
		CHECK(answer_a(m, ml, q, ql) == 3 && na == 0, "NXDOMAIN's records not counted");
		ml = answer(m, qm, qml, 0x8180, 2, mx, sizeof mx);
		CHECK(dns_answer(m, ml, qm, qml, &rrs) == 0 && rrs.nmx == 1 && rrs.null_mx == 1, "an MX and a null MX");
		ml = answer(m, qm, qml, 0x8180, 1, mx + 19, sizeof mx - 19);
		CHECK(dns_answer(m, ml, qm, qml, &rrs) == 0 && rrs.nmx == 0 && rrs.null_mx == 1, "the null MX alone");
		ml = answer(m, qm, qml, 0x8180, 1, aaaa, sizeof aaaa);
		CHECK(dns_answer(m, ml, qm, qml, &rrs) == 0 && rrs.naaaa == 1 && rrs.na == 0 && rrs.nmx == 0,
		      "an AAAA counted, whatever was asked");
		ml = answer(m, qm, qml, 0x8180, 1, short_mx, sizeof short_mx);
		CHECK(dns_answer(m, ml, qm, qml, &rrs) == -1, "an MX of 2 bytes refused");
		ml = answer(m, qm, qml, 0x8180, 1, long_aaaa, sizeof long_aaaa);
		CHECK(dns_answer(m, ml, qm, qml, &rrs) == -1, "an AAAA of 4 bytes refused");
		ml = answer(m, q, ql, 0x8180, 1, chaos_a, sizeof chaos_a);
		CHECK(answer_a(m, ml, q, ql) == 0 && na == 0, "an A of class CHAOS not counted");
		ml = answer(m, q, ql, 0x8180, 1, nx_with_a, sizeof nx_with_a);
		CHECK(dns_answer(m, ml, qm, qml, &rrs) == -1, "an answer to the A question is none to the MX one");
	}

	/* what an answer means */
	{
		unsigned char ans[3][4] = { { 127, 255, 255, 254 }, { 127, 0, 0, 2 }, { 10, 0, 0, 1 } };
		zone("bl.test");
		CHECK(dnsbl_judge(&z, ans, 0, &which) == DNSBL_CLEAN, "no answer: clean");
		CHECK(dnsbl_judge(&z, ans, 1, &which) == DNSBL_ODD && which == 0, "127.255.255.254: the list's error");
		CHECK(dnsbl_judge(&z, ans, 2, &which) == DNSBL_LISTED && which == 1, "127.0.0.2 lists");
		CHECK(dnsbl_judge(&z, ans + 2, 1, &which) == DNSBL_ODD, "outside 127/8: odd");
		zone("bl.test=127.0.0.3");
		CHECK(dnsbl_judge(&z, ans + 1, 1, &which) == DNSBL_CLEAN, "a code not named: clean");
		zone("bl.test=127.0.0.2");
		CHECK(dnsbl_judge(&z, ans, 2, &which) == DNSBL_LISTED && which == 1, "a code named lists");
		zone("bl.test=10.0.0.1");
		CHECK(dnsbl_judge(&z, ans + 2, 1, &which) == DNSBL_LISTED, "a named code outside 127/8 lists");
		zone("bl.test=127.0.0.[3..11]");
		CHECK(dnsbl_judge(&z, ans + 1, 1, &which) == DNSBL_CLEAN, "below a range: clean");
		zone("bl.test=127.0.0.[2..11]");
		CHECK(dnsbl_judge(&z, ans + 1, 1, &which) == DNSBL_LISTED, "a range's low end lists");
		zone("bl.test=127.[0..254].[0..255].[0..255]");
		CHECK(dnsbl_judge(&z, ans, 1, &which) == DNSBL_ODD, "127.255.255.254 outside the range named: odd");
	}
	/* EDNS0, records one by one, and names (SPF's use of them) */
	{
		static const unsigned char opt[11] = { 0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0 };
		unsigned char eq[DNS_QUERY_MAX], em[1024];
		size_t eql = dns_query(eq, sizeof eq, 0x1234, "example.org", DNS_T_TXT), el;
		size_t plain = eql;
		int flags, got;
		char nm[256];
		/* a PTR to "mail" + a pointer to the question's name */
		static const unsigned char ptr_rr[] = { 0xc0, 12, 0, 12, 0, 1, 0, 0, 0, 60, 0, 7, 4, 'm', 'a', 'i', 'l', 0xc0, 12 };
		static const unsigned char loop_rr[] = { 0xc0, 12, 0, 12, 0, 1, 0, 0, 0, 60, 0, 2, 0xc0, 41 };
		static const unsigned char dot_rr[] = { 0xc0, 12, 0, 12, 0, 1, 0, 0, 0, 60, 0, 5, 3, 'a', '.', 'b', 0 };
		eql = dns_edns(eq, eql, sizeof eq);
		CHECK(eql == plain + 11 && !memcmp(eq + plain, opt, 11) && eq[11] == 1, "EDNS0: an OPT record for 1232 bytes, ARCOUNT 1");
		CHECK(dns_edns(eq, eql, sizeof eq) == 0, "EDNS0 added once only");
		CHECK(dns_edns(eq, plain, plain + 10) == 0, "EDNS0: no room, no query");
		/* the answer repeats the question without the OPT record */
		memcpy(em, eq, plain);
		em[2] = 0x81;
		em[3] = 0x80;
		em[6] = 0;
		em[7] = 1;
		em[11] = 0;
		memcpy(em + plain, ptr_rr, sizeof ptr_rr);
		el = plain + sizeof ptr_rr;
		got = 0;
		CHECK(dns_records(em, el, eq, eql, &flags, count_records, &got) == 0 && got == 1 && flags == 0,
		      "an answer to a query with EDNS0 is read");
		CHECK(dns_name(em, el, plain + 12, nm, sizeof nm) == 16 && !strcmp(nm, "mail.example.org"),
		      "a name with a compression pointer");
		CHECK(dns_name(em, el, plain + 12, nm, 10) == -1, "a name longer than the room: refused");
		memcpy(em + plain, loop_rr, sizeof loop_rr);
		el = plain + sizeof loop_rr;
		CHECK(dns_name(em, el, plain + 12, nm, sizeof nm) == -1, "a pointer to itself: refused");
		memcpy(em + plain, dot_rr, sizeof dot_rr);
		el = plain + sizeof dot_rr;
		CHECK(dns_name(em, el, plain + 12, nm, sizeof nm) == -1, "a dot inside a label: refused");
		em[3] = 0x83;
		got = 0;
		CHECK(dns_records(em, el, eq, eql, &flags, count_records, &got) == 3 && got == 0,
		      "NXDOMAIN: its records are not handed on");
		em[2] = 0x83;
		em[3] = 0x80;
		CHECK(dns_records(em, el - 3, eq, eql, &flags, count_records, &got) == 0 && flags == DNS_TRUNCATED,
		      "truncated: read as far as whole");
	}
	return check_done();
}
