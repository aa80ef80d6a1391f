/* postern-listen's rules (src/postern-listen/rules.c): every address form
 * against the addresses it should match and its neighbours, specificity and
 * order, variables, every refusal with its line, and random rule files
 * against a plain bit-by-bit matcher. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "postern-listen/rules.c"

static struct rules R = RULES_INIT;
static struct str why = STR_INIT;

static int parse(const char *text)
{
	return rules_parse(&R, text, strlen(text), &why);
}

/* The rule an address gets, the address in a buffer of exactly its size
 * (4 or 16 bytes) so the sanitizer sees any read beyond it.  bad: the test
 * itself named no address. */
static const struct rule *rule_for(const char *ip, int *bad)
{
	int fam = strchr(ip, ':') ? AF_INET6 : AF_INET;
	size_t len = fam == AF_INET ? 4 : 16;
	unsigned char tmp[16], *a = malloc(len);
	const struct rule *r;
	*bad = !a || inet_pton(fam, ip, tmp) != 1;
	if (*bad) {
		free(a);
		return 0;
	}
	memcpy(a, tmp, len);
	r = rules_match(&R, fam, a);
	free(a);
	return r;
}

/* The line of the rule an address gets: 0 for none, -1 for a bad test. */
static long line_of(const char *ip)
{
	int bad;
	const struct rule *r = rule_for(ip, &bad);
	return bad ? -1 : r ? (long)r->line : 0;
}

/* The variables of the rule an address gets, joined with '|'; "(none)"
 * when no rule matches. */
static const char *env_of(const char *ip)
{
	static char buf[4096];
	int bad;
	const struct rule *r = rule_for(ip, &bad);
	size_t k, n = 0;
	if (bad)
		return "(bad test)";
	if (!r)
		return "(none)";
	buf[0] = 0;
	for (k = 0; k < r->env_n; k++) {
		const char *v = rules_env(&R, r, k);
		size_t l = strlen(v);
		if (n + l + 2 > sizeof buf)
			return "(too long)";
		if (k)
			buf[n++] = '|';
		memcpy(buf + n, v, l + 1);
		n += l;
	}
	return buf;
}

/* A text refused with exactly this reason, leaving the rules empty even
 * though a good file was parsed into them just before. */
static int refused_n(const char *text, size_t len, const char *want)
{
	int r;
	if (rules_parse(&R, "1.2.3.4:allow,X=1\n:deny\n", 24, &why) != 1 || R.n != 2)
		return 0;
	r = rules_parse(&R, text, len, &why);
	return r == 0 && R.n == 0 && R.r == 0 && R.env.len == 0 && why.len == strlen(want) &&
	       memcmp(why.s, want, why.len) == 0 && why.s[why.len] == 0;
}

static int refused(const char *text, const char *want)
{
	return refused_n(text, strlen(text), want);
}
/* a literal that holds a NUL byte, its whole length */
#define REFUSED_NUL(lit, want) refused_n(lit, sizeof lit - 1, want)

#define NO_INSTR "no \":allow\" or \":deny\""
#define HOST "host names are not looked up: name an address"
#define ADDR "not an address, prefix, range or CIDR block"
#define DENYV "deny takes no variables"
#define NAME "a variable is NAME=VALUE, NAME of letters, digits and _"
#define RESERVED "TCP... and PROTO are set by postern-listen, not by a rule"
#define QUOTE "a quoted value has no closing quote"
#define CTRL "a control character in a value"
#define COMMA "expected ',' before a variable"

/* --- random rule files against a plain matcher --- */

struct model {
	int family;             /* 4, 6 or 0 (every address) */
	unsigned char a[16];
	unsigned bits;          /* bits compared */
	int range;
	unsigned lo, hi;
	unsigned weight;
};

static int bit(const unsigned char *a, unsigned i)
{
	return (a[i / 8] >> (7 - i % 8)) & 1;
}

static int model_matches(const struct model *m, int family, const unsigned char *a)
{
	unsigned i;
	if (m->family == 0)
		return 1;
	if (m->family != family)
		return 0;
	for (i = 0; i < m->bits; i++)
		if (bit(m->a, i) != bit(a, i))
			return 0;
	return !m->range || (a[3] >= m->lo && a[3] <= m->hi);
}

/* Appends text, or stops the test: the buffers here only fail on memory. */
static void add(struct str *buf, const char *text)
{
	if (!str_cats(buf, text))
		abort();
}

static void addu(struct str *buf, unsigned long long n)
{
	if (!str_catu(buf, n))
		abort();
}

/* One random rule: its text appended to buf, its model in *m. */
static void random_rule(struct model *m, struct str *buf)
{
	char ip[64];
	unsigned k;
	memset(m, 0, sizeof *m);
	/* few distinct bytes, so rules and addresses overlap often */
	for (k = 0; k < 16; k++)
		m->a[k] = (unsigned char)(rnd() % 4 == 0 ? rnd() : 10 + rnd() % 3);
	switch (rnd() % 7) {
	case 0: /* exact IPv4 */
		m->family = 4;
		m->bits = m->weight = 32;
		inet_ntop(AF_INET, m->a, ip, sizeof ip);
		add(buf, ip);
		break;
	case 1: /* prefix of 1 to 3 numbers */
		m->family = 4;
		k = 1 + (unsigned)(rnd() % 3);
		m->bits = m->weight = 8 * k;
		addu(buf, m->a[0]);
		add(buf, ".");
		if (k > 1) {
			addu(buf, m->a[1]);
			add(buf, ".");
		}
		if (k > 2) {
			addu(buf, m->a[2]);
			add(buf, ".");
		}
		break;
	case 2: /* range */
		m->family = 4;
		m->bits = 24;
		m->weight = 32;
		m->range = 1;
		m->lo = m->a[3] % 16;
		m->hi = m->lo + (unsigned)(rnd() % 20);
		m->a[3] = (unsigned char)m->lo;
		inet_ntop(AF_INET, m->a, ip, sizeof ip);
		add(buf, ip);
		add(buf, "-");
		addu(buf, m->hi);
		break;
	case 3: /* IPv4 CIDR, host bits sometimes set */
		m->family = 4;
		m->bits = m->weight = (unsigned)(rnd() % 33);
		inet_ntop(AF_INET, m->a, ip, sizeof ip);
		add(buf, ip);
		add(buf, "/");
		addu(buf, m->bits);
		break;
	case 4: /* IPv6 CIDR */
		m->family = 6;
		m->bits = m->weight = (unsigned)(rnd() % 129);
		inet_ntop(AF_INET6, m->a, ip, sizeof ip);
		add(buf, ip);
		add(buf, "/");
		addu(buf, m->bits);
		break;
	case 5: /* exact IPv6 */
		m->family = 6;
		m->bits = m->weight = 128;
		inet_ntop(AF_INET6, m->a, ip, sizeof ip);
		add(buf, ip);
		break;
	default: /* every address, rarely */
		if (rnd() % 3) {
			random_rule(m, buf);
			return;
		}
		break;
	}
	add(buf, ":allow\n");
}

/* For every k of 0-255, the address PRE k POST: how many times rule 1
 * matched it other than exactly when lo <= k <= hi. */
static size_t sweep_misses(const char *pre, const char *post, size_t lo, size_t hi)
{
	size_t k, misses = 0;
	for (k = 0; k < 256; k++) {
		struct str ip = STR_INIT;
		add(&ip, pre);
		addu(&ip, k);
		add(&ip, post);
		if ((line_of(ip.s) == 1) != (k >= lo && k <= hi))
			misses++;
		str_free(&ip);
	}
	return misses;
}

/* rounds of random files; the number of rounds that disagreed */
static size_t random_rounds(size_t rounds, size_t *matched, size_t *unmatched)
{
	struct str text = STR_INIT;
	struct model m[16];
	size_t round, bad = 0;
	for (round = 0; round < rounds; round++) {
		size_t n = 1 + (size_t)(rnd() % 16), i, t;
		text.len = 0;
		add(&text, "");
		for (i = 0; i < n; i++)
			random_rule(&m[i], &text);
		if (parse(text.s) != 1 || R.n != n) {
			bad++;
			continue;
		}
		for (t = 0; t < 40; t++) {
			/* an address near a rule's: its bytes with a bit or two changed */
			const struct model *near = &m[rnd() % n];
			int family = rnd() % 2 ? 4 : 6;
			unsigned char *a = malloc(family == 4 ? 4 : 16), full[16];
			const struct rule *got;
			size_t want = 0, j;
			memcpy(full, near->a, 16);
			if (near->range && rnd() % 2)
				full[3] = (unsigned char)(near->lo + rnd() % 24 - 2);
			if (rnd() % 2)
				full[rnd() % (family == 4 ? 4 : 16)] ^= (unsigned char)(1u << rnd() % 8);
			memcpy(a, full, family == 4 ? 4 : 16);
			for (j = 0; j < n; j++)
				if (model_matches(&m[j], family, full) && (!want || m[j].weight > m[want - 1].weight))
					want = j + 1;
			got = rules_match(&R, family == 4 ? AF_INET : AF_INET6, a);
			if ((got ? got->line : 0) != want)
				bad++;
			if (want)
				++*matched;
			else
				++*unmatched;
			free(a);
		}
	}
	str_free(&text);
	return bad;
}

int main(void)
{
	const struct rule *r;
	int bad;
	size_t k, hits, misses;

	/* --- each address form, and its neighbours --- */

	CHECK(parse("10.1.2.3:allow\n") == 1 && R.n == 1, "exact IPv4 parses");
	r = R.r;
	CHECK(r->family == AF_INET && r->bits == 32 && !r->range && r->allow && r->line == 1 && r->env_n == 0,
	      "exact IPv4: family, 32 bits, allow, line 1");
	CHECK(line_of("10.1.2.3") == 1, "exact IPv4 matches itself");
	CHECK(line_of("10.1.2.4") == 0 && line_of("10.1.2.2") == 0 && line_of("10.1.3.3") == 0 &&
	      line_of("11.1.2.3") == 0, "and none of its neighbours");
	CHECK(line_of("::ffff:10.1.2.3") == 0 && line_of("::10.1.2.3") == 0 && line_of("a01:203::") == 0,
	      "nor any IPv6 address holding the same bytes");

	CHECK(parse("10.1.:allow\n") == 1 && R.r[0].family == AF_INET && R.r[0].bits == 16, "prefix 10.1. parses: 16 bits");
	CHECK(line_of("10.1.200.3") == 1 && line_of("10.1.0.0") == 1 && line_of("10.1.255.255") == 1,
	      "prefix 10.1. matches 10.1.*");
	CHECK(line_of("10.10.1.1") == 0, "prefix 10.1. does not match 10.10.1.1");
	CHECK(line_of("10.0.1.1") == 0 && line_of("10.2.1.1") == 0 && line_of("11.1.0.0") == 0 && line_of("110.1.0.0") == 0,
	      "nor 10.0., 10.2., 11.1., 110.1.");
	CHECK(line_of("::ffff:10.1.0.1") == 0, "nor an IPv4-mapped IPv6 address");
	CHECK(parse("10.:allow\n192.168.1.:deny\n0.:allow\n") == 1 && R.r[0].bits == 8 && R.r[1].bits == 24 &&
	      R.r[2].bits == 8 && !R.r[1].allow, "prefixes of one and three numbers, and 0.");
	CHECK(line_of("10.255.0.1") == 1 && line_of("192.168.1.77") == 2 && line_of("0.1.2.3") == 3,
	      "each matches inside");
	CHECK(line_of("9.255.255.255") == 0 && line_of("192.168.0.1") == 0 && line_of("192.168.10.1") == 0 &&
	      line_of("1.0.0.0") == 0, "and not beside");

	CHECK(parse("10.1.2.3-40:allow\n") == 1 && R.r[0].range && R.r[0].bits == 24 && R.r[0].addr[3] == 3 &&
	      R.r[0].last_hi == 40, "range 10.1.2.3-40 parses");
	CHECK(line_of("10.1.2.3") == 1 && line_of("10.1.2.40") == 1 && line_of("10.1.2.20") == 1, "range matches .3, .20, .40");
	CHECK(line_of("10.1.2.2") == 0 && line_of("10.1.2.41") == 0, "range does not match .2 or .41");
	CHECK(line_of("10.1.3.3") == 0 && line_of("10.2.2.3") == 0 && line_of("11.1.2.3") == 0,
	      "nor the same last number under another /24");
	CHECK(sweep_misses("10.1.2.", "", 3, 40) == 0, "range: every last number 0-255 matched exactly when within 3-40");
	CHECK(parse("10.1.2.7-7:allow\n10.1.3.0-255:allow\n") == 1, "a range of one, and of all 256");
	CHECK(line_of("10.1.2.7") == 1 && line_of("10.1.2.6") == 0 && line_of("10.1.2.8") == 0, "range of one");
	CHECK(line_of("10.1.3.0") == 2 && line_of("10.1.3.255") == 2 && line_of("10.1.4.0") == 0, "range of 256");

	CHECK(parse("10.0.0.0/8:allow\n") == 1 && R.r[0].bits == 8 && R.r[0].family == AF_INET, "CIDR /8 parses");
	CHECK(line_of("10.0.0.0") == 1 && line_of("10.255.255.255") == 1, "/8: both ends");
	CHECK(line_of("9.255.255.255") == 0 && line_of("11.0.0.0") == 0, "/8: not the neighbours");
	CHECK(parse("10.8.0.0/13:allow\n") == 1 && R.r[0].bits == 13, "CIDR /13 parses");
	CHECK(line_of("10.8.0.0") == 1 && line_of("10.15.255.255") == 1, "/13: 10.8.0.0 to 10.15.255.255");
	CHECK(line_of("10.7.255.255") == 0 && line_of("10.16.0.0") == 0, "/13: not 10.7.255.255 nor 10.16.0.0");
	CHECK(sweep_misses("10.", ".1.1", 8, 15) == 0, "/13: every second number matched exactly when within 8-15");
	CHECK(parse("1.2.3.4/31:allow\n") == 1, "CIDR /31 parses");
	CHECK(line_of("1.2.3.4") == 1 && line_of("1.2.3.5") == 1 && line_of("1.2.3.3") == 0 && line_of("1.2.3.6") == 0,
	      "/31: .4 and .5 only");
	CHECK(parse("1.2.3.4/32:allow\n") == 1 && R.r[0].bits == 32, "CIDR /32 parses");
	CHECK(line_of("1.2.3.4") == 1 && line_of("1.2.3.5") == 0 && line_of("1.2.3.3") == 0 && line_of("129.2.3.4") == 0,
	      "/32: that address only");
	CHECK(parse("1.2.3.4/0:allow\n") == 1 && R.r[0].bits == 0 && R.r[0].family == AF_INET, "CIDR /0 parses");
	CHECK(line_of("0.0.0.0") == 1 && line_of("255.255.255.255") == 1 && line_of("200.1.2.3") == 1,
	      "IPv4 /0: every IPv4 address");
	CHECK(line_of("::") == 0 && line_of("2001:db8::1") == 0 && line_of("::ffff:1.2.3.4") == 0, "IPv4 /0: no IPv6 one");
	CHECK(parse("10.1.2.3/24:allow\n") == 1, "CIDR with host bits set parses");
	CHECK(line_of("10.1.2.99") == 1 && line_of("10.1.3.3") == 0, "and the host bits are ignored");
	CHECK(refused("1.2.3.4/008:allow\n", "line 1: " ADDR), "CIDR bits with leading zeros are refused, as in a prefix");
	CHECK(refused("10.1.2.3-040:allow\n", "line 1: " ADDR), "a range's high number with a leading zero is refused");

	CHECK(parse("2001:db8::1:allow\n") == 1 && R.r[0].family == AF_INET6 && R.r[0].bits == 128, "exact IPv6 parses");
	CHECK(line_of("2001:db8::1") == 1 && line_of("2001:db8:0:0:0:0:0:1") == 1, "exact IPv6 matches itself, however written");
	CHECK(line_of("2001:db8::2") == 0 && line_of("2001:db8::") == 0 && line_of("2001:db8::1:0") == 0 &&
	      line_of("3001:db8::1") == 0, "and not its neighbours");
	CHECK(parse(":::allow\n::1:deny\n") == 1 && R.r[0].family == AF_INET6 && R.r[1].family == AF_INET6,
	      "\"::\" and \"::1\" before the colon of the instruction");
	CHECK(line_of("::") == 1 && line_of("::1") == 2 && line_of("::2") == 0, ":: and ::1 each match themselves");
	CHECK(line_of("0.0.0.0") == 0 && line_of("0.0.0.1") == 0, "and no IPv4 address of the same bytes");
	CHECK(parse("::ffff:10.1.2.3:allow\n") == 1 && R.r[0].family == AF_INET6, "IPv4-mapped IPv6 is IPv6");
	CHECK(line_of("::ffff:10.1.2.3") == 1 && line_of("10.1.2.3") == 0, "and matches only as IPv6");
	CHECK(parse("2001:db8::/32:allow\n") == 1 && R.r[0].bits == 32 && R.r[0].family == AF_INET6, "IPv6 /32 parses");
	CHECK(line_of("2001:db8::") == 1 && line_of("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff") == 1, "IPv6 /32: both ends");
	CHECK(line_of("2001:db7:ffff:ffff:ffff:ffff:ffff:ffff") == 0 && line_of("2001:db9::") == 0 &&
	      line_of("32.1.13.184") == 0, "IPv6 /32: not the neighbours, nor IPv4 32.1.13.184 of its first bytes");
	CHECK(parse("2001:db8:0:1:8000::/65:allow\n") == 1 && R.r[0].bits == 65, "IPv6 /65 parses");
	CHECK(line_of("2001:db8:0:1:8000::") == 1 && line_of("2001:db8:0:1:ffff:ffff:ffff:ffff") == 1, "/65: both ends");
	CHECK(line_of("2001:db8:0:1:7fff:ffff:ffff:ffff") == 0 && line_of("2001:db8:0:2:8000::") == 0 &&
	      line_of("2001:db8:0:1::") == 0, "/65: not the neighbours");
	CHECK(parse("2001:db8::1/128:allow\n") == 1 && R.r[0].bits == 128, "IPv6 /128 parses");
	CHECK(line_of("2001:db8::1") == 1 && line_of("2001:db8::0") == 0 && line_of("2001:db8::3") == 0 &&
	      line_of("2001:db8::1:1") == 0, "/128: that address only");
	CHECK(parse("fe80::/10:allow\n") == 1, "IPv6 /10 parses");
	CHECK(line_of("fe80::1") == 1 && line_of("febf:ffff::") == 1 && line_of("fec0::") == 0 && line_of("fe7f::") == 0,
	      "/10: fe80:: to febf:..., not fec0:: nor fe7f::");
	CHECK(parse("::/0:deny\n") == 1 && R.r[0].bits == 0 && R.r[0].family == AF_INET6, "IPv6 /0 parses");
	CHECK(line_of("::") == 1 && line_of("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff") == 1 && line_of("2001:db8::5") == 1,
	      "IPv6 /0: every IPv6 address");
	CHECK(line_of("0.0.0.0") == 0 && line_of("10.1.2.3") == 0, "IPv6 /0: no IPv4 one");

	CHECK(parse(":allow\n") == 1 && R.r[0].family == 0 && R.r[0].bits == 0, "empty address parses");
	CHECK(line_of("10.1.2.3") == 1 && line_of("255.255.255.255") == 1 && line_of("::") == 1 && line_of("2001:db8::1") == 1,
	      "empty address: every IPv4 and IPv6 address");

	/* --- specificity and order --- */

	CHECK(parse("10.:allow,A=8\n10.1.:allow,A=16\n10.1.2.:allow,A=24\n10.1.2.3:allow,A=32\n:allow,A=0\n") == 1,
	      "nested rules, widest first");
	CHECK(line_of("10.1.2.3") == 4 && line_of("10.1.2.4") == 3 && line_of("10.1.3.1") == 2 && line_of("10.2.0.0") == 1 &&
	      line_of("11.0.0.0") == 5 && line_of("::1") == 5, "the most specific wins, widest first");
	CHECK(strcmp(env_of("10.1.2.4"), "A=24") == 0 && strcmp(env_of("11.1.1.1"), "A=0") == 0,
	      "with the variables of the winner");
	CHECK(parse(":allow,A=0\n10.1.2.3:allow,A=32\n10.1.2.:allow,A=24\n10.1.:allow,A=16\n10.:allow,A=8\n") == 1,
	      "nested rules, narrowest first");
	CHECK(line_of("10.1.2.3") == 2 && line_of("10.1.2.4") == 3 && line_of("10.1.3.1") == 4 && line_of("10.2.0.0") == 5 &&
	      line_of("11.0.0.0") == 1, "the most specific wins, narrowest first");
	CHECK(parse("10.1.:deny\n10.1.2.0/24:allow\n") == 1 && line_of("10.1.2.9") == 2 && line_of("10.1.3.9") == 1,
	      "prefix 24 beats prefix 16, the 16 first");
	CHECK(parse("10.1.2.0/24:allow\n10.1.:deny\n") == 1 && line_of("10.1.2.9") == 1 && line_of("10.1.3.9") == 2,
	      "prefix 24 beats prefix 16, the 24 first");
	CHECK(parse("10.1.2.3-40:deny\n10.1.2.3:allow\n") == 1 && line_of("10.1.2.3") == 1 && line_of("10.1.2.4") == 1,
	      "range and exact weigh the same: the first (the range) wins");
	CHECK(parse("10.1.2.3:allow\n10.1.2.3-40:deny\n") == 1 && line_of("10.1.2.3") == 1 && line_of("10.1.2.4") == 2,
	      "range and exact weigh the same: the first (the exact) wins");
	CHECK(parse("10.1.2.:allow\n10.1.2.3-40:deny\n10.1.2.0/25:allow\n") == 1 && line_of("10.1.2.5") == 2 &&
	      line_of("10.1.2.41") == 3 && line_of("10.1.2.200") == 1, "a range beats the /24 before it and the /25 after it");
	CHECK(parse("10.1.2.0/24:allow,A=1\n10.1.2.:allow,A=2\n") == 1 && line_of("10.1.2.1") == 1,
	      "CIDR /24 and prefix of three weigh the same: the first");
	CHECK(parse("10.1.2.:allow,A=2\n10.1.2.0/24:allow,A=1\n") == 1 && line_of("10.1.2.1") == 1,
	      "the same the other way round");
	CHECK(parse("10.1.2.:allow\n10.1.2.128/25:deny\n") == 1 && line_of("10.1.2.200") == 2 && line_of("10.1.2.100") == 1,
	      "a /25 beats the prefix before it");
	CHECK(parse("10.1.2.3:allow,A=1\n10.1.2.3:allow,A=2\n10.1.2.3/32:deny\n") == 1 && line_of("10.1.2.3") == 1 &&
	      strcmp(env_of("10.1.2.3"), "A=1") == 0, "the same address three times: the first");
	CHECK(parse(":deny\n10.0.0.0/8:allow\n::/0:allow\n") == 1 && line_of("10.9.9.9") == 2 && line_of("12.0.0.1") == 1 &&
	      line_of("2001:db8::1") == 1, "the empty rule first loses to every other match, and ties with ::/0");
	CHECK(parse("0.0.0.0/0:allow\n:deny\n") == 1 && line_of("1.1.1.1") == 1 && line_of("::1") == 2,
	      "IPv4 /0 and the empty rule tie: the first; IPv6 gets only the empty one");
	CHECK(parse("2001:db8::/32:allow\n2001:db8::/48:deny\n2001:db8::1:allow,X=1\n::/0:deny\n") == 1 &&
	      line_of("2001:db8::1") == 3 && line_of("2001:db8::2") == 2 && line_of("2001:db8:1::") == 1 &&
	      line_of("2001:db9::") == 4, "IPv6: the longest prefix wins");
	CHECK(parse("10.1.2.3:allow\n::/0:deny\n") == 1 && line_of("::ffff:10.1.2.3") == 2 && line_of("10.1.2.3") == 1,
	      "families never cross");

	/* --- no match --- */

	CHECK(parse("10.:allow\n2001:db8::/32:deny\n") == 1 && line_of("11.0.0.1") == 0 && line_of("2001:db9::") == 0 &&
	      strcmp(env_of("11.0.0.1"), "(none)") == 0, "no rule matches: none");
	CHECK(parse("") == 1 && R.n == 0 && line_of("1.2.3.4") == 0 && line_of("::1") == 0, "an empty file: no rule");
	CHECK(parse("# only\n\n   \n\t# comments\r\n\r\n") == 1 && R.n == 0, "comments and blank lines: no rule");

	/* --- variables --- */

	CHECK(parse("1.2.3.4:allow,RELAYCLIENT=\"\"\n") == 1 && R.r[0].env_n == 1 &&
	      strcmp(env_of("1.2.3.4"), "RELAYCLIENT=") == 0, "RELAYCLIENT=\"\": an empty quoted value");
	CHECK(parse("1.2.3.4:allow,RELAYCLIENT=\n") == 1 && strcmp(env_of("1.2.3.4"), "RELAYCLIENT=") == 0,
	      "an empty unquoted value");
	CHECK(parse(":allow,GREETING=\"hello, world\"\n") == 1 && strcmp(env_of("1.1.1.1"), "GREETING=hello, world") == 0,
	      "a quoted value keeps its comma and spaces");
	CHECK(parse(":allow,GREETING=hello world\n") == 1 && strcmp(env_of("1.1.1.1"), "GREETING=hello world") == 0,
	      "an unquoted value keeps its space");
	CHECK(parse(":allow,X=a\"b\n") == 1 && strcmp(env_of("1.1.1.1"), "X=a\"b") == 0,
	      "a quote inside an unquoted value is a byte of it");
	CHECK(parse("10.:allow,A=1,B=\"two\",C=,D=\"x:deny\",_e9=\"\"\n") == 1 && R.r[0].env_n == 5 && R.r[0].allow &&
	      strcmp(env_of("10.1.1.1"), "A=1|B=two|C=|D=x:deny|_e9=") == 0, "several variables, in order");
	CHECK(parse("1.2.3.4:allow,X=:deny\n") == 1 && R.r[0].allow && R.r[0].family == AF_INET &&
	      strcmp(env_of("1.2.3.4"), "X=:deny") == 0, "an unquoted value \":deny\" stays a value of an allow");
	CHECK(parse("1.2.3.4:allow,X=\":deny\"\n") == 1 && R.r[0].allow && strcmp(env_of("1.2.3.4"), "X=:deny") == 0,
	      "a quoted value \":deny\" too");
	CHECK(parse("2001:db8::1:allow,SMTPROUTE=mx.example:25,Y=\"[::1]:25\"\n") == 1 && R.r[0].family == AF_INET6 &&
	      R.r[0].bits == 128 && strcmp(env_of("2001:db8::1"), "SMTPROUTE=mx.example:25|Y=[::1]:25") == 0,
	      "values with ':' after an IPv6 address");
	CHECK(parse(":allow,X==1,Y=a=b\n") == 1 && strcmp(env_of("1.1.1.1"), "X==1|Y=a=b") == 0, "'=' inside a value");
	CHECK(parse(":allow,X=\"caf\xc3\xa9\"\n") == 1 && strcmp(env_of("1.1.1.1"), "X=caf\xc3\xa9") == 0,
	      "bytes above 127 in a value");
	CHECK(parse(":allow,TC=1,PROTOCOL=2,PROT=3,xTCP=4,tcpx=5\n") == 1 &&
	      strcmp(env_of("1.1.1.1"), "TC=1|PROTOCOL=2|PROT=3|xTCP=4|tcpx=5") == 0,
	      "names near the reserved ones are allowed");
	CHECK(refused(":allow,X=1,X=2\n", "line 1: a variable set twice"), "a name twice in one rule is refused");
	CHECK(parse(":allow,X=1,XY=2\n") == 1 && strcmp(env_of("1.1.1.1"), "X=1|XY=2") == 0, "a name that only starts like another is not a repeat");
	CHECK(parse("10.:allow,A=1,B=2\n10.1.:deny\n11.:allow\n12.:allow,C=\"3\"\n") == 1 &&
	      strcmp(env_of("10.2.0.0"), "A=1|B=2") == 0 && strcmp(env_of("10.1.0.0"), "") == 0 &&
	      strcmp(env_of("11.0.0.0"), "") == 0 && strcmp(env_of("12.0.0.0"), "C=3") == 0 && !R.r[1].allow,
	      "each rule its own variables, deny and plain allow none");
	CHECK(parse("1.2.3.4:allow,A=\"1\"\r\n5.6.7.8:allow,B=2\r\n\r\n9.9.9.9:allow,C=\"\"\r\n") == 1 && R.n == 3 &&
	      strcmp(env_of("1.2.3.4"), "A=1") == 0 && strcmp(env_of("5.6.7.8"), "B=2") == 0 &&
	      strcmp(env_of("9.9.9.9"), "C=") == 0 && R.r[2].line == 4, "CRLF: no \\r in the values, lines counted");
	CHECK(parse("  \t1.2.3.4:allow,A=1 \t \n\t# a comment, then a last line without its newline\n5.6.7.8:deny") == 1 &&
	      R.n == 2 && strcmp(env_of("1.2.3.4"), "A=1") == 0 && R.r[1].line == 3 && line_of("5.6.7.8") == 3,
	      "blanks around a line stripped; the last line without a newline");
	{
		struct str text = STR_INIT;
		add(&text, ":allow");
		for (k = 0; k < RULE_ENV_MAX; k++) {
			add(&text, ",V");
			addu(&text, k);
			add(&text, "=");
			addu(&text, k);
		}
		CHECK(parse(text.s) == 1 && R.r[0].env_n == 16 && strcmp(rules_env(&R, R.r, 15), "V15=15") == 0 &&
		      strcmp(rules_env(&R, R.r, 0), "V0=0") == 0, "16 variables: the most a rule may set");
		add(&text, ",V16=16");
		CHECK(refused(text.s, "line 1: more than 16 variables"), "17 variables refused");
		str_free(&text);
	}
	{
		/* 10,000 rules, the last one matching; one more refused */
		struct str t = STR_INIT;
		int ok = 1;
		for (k = 0; k < RULES_MAX && ok; k++)
			ok = str_cats(&t, "10.") && str_catu(&t, k / 256 % 256) && str_cats(&t, ".") &&
			     str_catu(&t, k % 256) && str_cats(&t, ".:allow,N=") && str_catu(&t, k) && str_cats(&t, "\n");
		CHECK(ok && rules_parse(&R, t.s, t.len, &why) == 1 && R.n == RULES_MAX, "10,000 rules");
		CHECK(line_of("10.39.15.1") == RULES_MAX && strcmp(env_of("10.39.15.1"), "N=9999") == 0 &&
		      strcmp(env_of("10.0.0.1"), "N=0") == 0, "each with its own variable");
		ok = ok && str_cats(&t, "1.2.3.4:deny\n");
		CHECK(ok && refused_n(t.s, t.len, "line 10001: more than 10000 rules"), "10,001 refused");
		str_free(&t);
	}

	/* --- refusals, each with its line, each leaving no rule --- */

	CHECK(refused("1.2.3.4\n", "line 1: " NO_INSTR), "no instruction");
	CHECK(refused("1.2.3.4:allow\n# c\n\n5.6.7.8\n", "line 4: " NO_INSTR), "no instruction, line 4");
	CHECK(refused("1.2.3.4:accept\n", "line 1: " NO_INSTR), ":accept is no instruction");
	CHECK(refused("1.2.3.4:allowed\n", "line 1: " NO_INSTR), ":allowed is not :allow");
	CHECK(refused("1.2.3.4:denyx\n", "line 1: " NO_INSTR), ":denyx is not :deny");
	CHECK(refused("1.2.3.4:Allow\n", "line 1: " NO_INSTR), "the instruction is lower case");
	CHECK(refused("1.2.3.4 allow\n", "line 1: " NO_INSTR), "no colon");
	CHECK(refused("1.2.3.4:allow X=1\n", "line 1: " NO_INSTR), "a blank, not a comma, after allow");
	CHECK(refused("1.2.3.4:allow # relay\n", "line 1: " NO_INSTR), "no comment after a rule");
	CHECK(refused("=mail.example:allow\n", "line 1: " HOST), "=host refused");
	CHECK(refused("1.2.3.4:deny\r\n=:deny\r\n", "line 2: " HOST), "=host refused, line 2 after CRLF");
	CHECK(refused("mail.example:allow\n", "line 1: " ADDR), "a host name without = is no address");

	CHECK(refused("1.2.3:allow\n", "line 1: " ADDR), "three numbers without a dot");
	CHECK(refused("1.2.3.256:allow\n", "line 1: " ADDR), "a number above 255");
	CHECK(refused("1.2.3.4.5:allow\n", "line 1: " ADDR), "five numbers");
	CHECK(refused("01.2.3.4:allow\n", "line 1: " ADDR), "an address with a leading zero");
	CHECK(refused("1.2.3.4 :allow\n", "line 1: " ADDR), "a blank before the colon");
	CHECK(refused(" 1.2.3.4\t:allow\n", "line 1: " ADDR), "a tab before the colon");
	CHECK(refused("2001:db8::g:allow\n", "line 1: " ADDR), "a bad IPv6 address");
	CHECK(refused("2001:db8:::1:allow\n", "line 1: " ADDR), "three colons in IPv6");
	CHECK(refused("fe80::1%eth0:allow\n", "line 1: " ADDR), "an IPv6 scope");
	CHECK(refused("::ffff:10.1.2.3-40:allow\n", "line 1: " ADDR), "no IPv6 range");
	CHECK(refused("2001:db8::1:2:3:4:5:6:7:8:9:10:11:12:13:14:15:16:17:18:19:20:allow\n", "line 1: " ADDR),
	      "an overlong IPv6 address");
	CHECK(refused(":allow\n1.2.3.4:allow\n1.2.3.x:allow\n", "line 3: " ADDR), "a bad address on line 3");

	CHECK(refused("1.2.3.4.:allow\n", "line 1: " ADDR), "a prefix of four numbers");
	CHECK(refused("256.:allow\n", "line 1: " ADDR), "a prefix number above 255");
	CHECK(refused("10.1.999.:allow\n", "line 1: " ADDR), "a prefix's third number above 255");
	CHECK(refused("10.01.:allow\n", "line 1: " ADDR), "a prefix number with a leading zero");
	CHECK(refused("00.:allow\n", "line 1: " ADDR), "a prefix 00.");
	CHECK(refused("0010.:allow\n", "line 1: " ADDR), "a prefix number of four digits");
	CHECK(refused("10..:allow\n", "line 1: " ADDR), "a prefix with an empty number");
	CHECK(refused(".:allow\n", "line 1: " ADDR), "a prefix of just a dot");
	CHECK(refused(".10.:allow\n", "line 1: " ADDR), "a prefix starting with a dot");
	CHECK(refused("10.a.:allow\n", "line 1: " ADDR), "a prefix with a letter");
	CHECK(refused("18446744073709551616.:allow\n", "line 1: " ADDR), "a prefix number past 64 bits");

	CHECK(refused("10.1.2.40-3:allow\n", "line 1: " ADDR), "a range high below low");
	CHECK(refused("10.1.2.3-2:allow\n", "line 1: " ADDR), "a range high just below low");
	CHECK(refused("10.1.2.3-256:allow\n", "line 1: " ADDR), "a range high above 255");
	CHECK(refused("10.1.2.3-:allow\n", "line 1: " ADDR), "a range without its high");
	CHECK(refused("10.1.2.3-0040:allow\n", "line 1: " ADDR), "a range high of four digits");
	CHECK(refused("10.1.2-40:allow\n", "line 1: " ADDR), "a range on three numbers");
	CHECK(refused("10.1.2.3-4-5:allow\n", "line 1: " ADDR), "two dashes");
	CHECK(refused("10.1.2.3-x:allow\n", "line 1: " ADDR), "a range high not a number");
	CHECK(refused("-40:allow\n", "line 1: " ADDR), "a range without its address");

	CHECK(refused("10.0.0.0/33:allow\n", "line 1: " ADDR), "IPv4 /33");
	CHECK(refused("2001:db8::/129:allow\n", "line 1: " ADDR), "IPv6 /129");
	CHECK(refused("2001:db8::/1000:allow\n", "line 1: " ADDR), "IPv6 /1000");
	CHECK(refused("10.0.0.0/18446744073709551616:allow\n", "line 1: " ADDR), "bits past 64 bits");
	CHECK(refused("10.0.0.0/:allow\n", "line 1: " ADDR), "a CIDR without bits");
	CHECK(refused("/8:allow\n", "line 1: " ADDR), "a CIDR without an address");
	CHECK(refused("10.0.0.0/8/8:allow\n", "line 1: " ADDR), "two slashes");
	CHECK(refused("10.0.0.0/-1:allow\n", "line 1: " ADDR), "negative bits");
	CHECK(refused("10.0.0.0/+8:allow\n", "line 1: " ADDR), "signed bits");
	CHECK(refused("10.0.0.0/0x8:allow\n", "line 1: " ADDR), "hex bits");
	CHECK(refused("10.0.0./8:allow\n", "line 1: " ADDR), "a CIDR on a prefix");
	CHECK(refused("10.0.0.0-9/8:allow\n", "line 1: " ADDR), "a CIDR on a range");

	CHECK(refused("1.2.3.4:deny,X=1\n", "line 1: " DENYV), "deny with a variable");
	CHECK(refused(":allow\n1.2.3.4:deny,\n", "line 2: " DENYV), "deny with a lone comma, line 2");
	CHECK(refused("1.2.3.4:allow,\n", "line 1: " NAME), "allow with a lone comma");
	CHECK(refused("1.2.3.4:allow,X=1,\n", "line 1: " NAME), "a trailing comma");
	CHECK(refused("1.2.3.4:allow,X=1,,Y=2\n", "line 1: " NAME), "two commas");
	CHECK(refused("1.2.3.4:allow,1X=y\n", "line 1: " NAME), "a name starting with a digit");
	CHECK(refused("1.2.3.4:allow,X-Y=z\n", "line 1: " NAME), "a dash in a name");
	CHECK(refused("1.2.3.4:allow,X.Y=z\n", "line 1: " NAME), "a dot in a name");
	CHECK(refused("1.2.3.4:allow,=v\n", "line 1: " NAME), "an empty name");
	CHECK(refused("1.2.3.4:allow,X\n", "line 1: " NAME), "a name without =");
	CHECK(refused("1.2.3.4:allow, X=1\n", "line 1: " NAME), "a blank before a name");
	CHECK(refused("1.2.3.4:allow,X =1\n", "line 1: " NAME), "a blank after a name");
	CHECK(refused("1.2.3.4:allow,\"X\"=1\n", "line 1: " NAME), "a quoted name");
	CHECK(refused("1.2.3.4:allow,X=\"a\"b\n", "line 1: " COMMA), "bytes after a closing quote");
	CHECK(refused("1.2.3.4:allow,X=\"a\" ,Y=1\n", "line 1: " COMMA), "a blank after a closing quote");

	CHECK(refused("1.2.3.4:allow,TCPREMOTEIP=x\n", "line 1: " RESERVED), "TCPREMOTEIP=x refused");
	CHECK(refused("1.2.3.4:allow,A=1,TCPLOCALPORT=\"25\"\n", "line 1: " RESERVED), "TCPLOCALPORT after another");
	CHECK(refused("1.2.3.4:allow,TCPREMOTEHOST=x\n", "line 1: " RESERVED), "TCPREMOTEHOST refused");
	CHECK(refused("1.2.3.4:allow,TCP=x\n", "line 1: " RESERVED), "TCP itself refused");
	CHECK(refused("1.2.3.4:allow,TCPX=\n", "line 1: " RESERVED), "TCPX with an empty value refused");
	CHECK(refused("# PROTO\n\n1.2.3.4:allow,PROTO=x\n", "line 3: " RESERVED), "PROTO=x refused, line 3");

	CHECK(refused("1.2.3.4:allow,X=\"abc\n", "line 1: " QUOTE), "an unterminated quote");
	CHECK(refused("1.2.3.4:allow,X=\"\n", "line 1: " QUOTE), "a lone quote");
	CHECK(refused("1.2.3.4:allow,X=\"a\nb\"\n", "line 1: " QUOTE), "a quote does not run into the next line");
	CHECK(refused("1.2.3.4:allow,X=\"a\r\nb\"\r\n", "line 1: " QUOTE), "nor with CRLF");

	CHECK(refused("1.2.3.4:allow,X=a\tb\n", "line 1: " CTRL), "a tab in a value");
	CHECK(refused("1.2.3.4:allow,X=\"a\x01" "b\"\n", "line 1: " CTRL), "a control byte in a quoted value");
	CHECK(refused("1.2.3.4:allow,X=a\x7f\n", "line 1: " CTRL), "DEL in a value");
	CHECK(refused("1.2.3.4:allow,X=a\rb\n", "line 1: " CTRL), "a CR inside a line");
	CHECK(refused("1.2.3.4:allow,X=\"a\x1b[31m\"\n", "line 1: " CTRL), "an escape sequence");
	CHECK(refused("1.2.3.4:allow,A=1,X=\"\x1f\",B=2\n", "line 1: " CTRL), "0x1f between good variables");

	CHECK(REFUSED_NUL("1.2.3.4:allow\n\n5.6.7.8:allow,X=a\0b\n", "line 3: a NUL byte"), "a NUL in a value, line 3");
	CHECK(REFUSED_NUL("1.2.3.4\0:allow\n", "line 1: a NUL byte"), "a NUL in an address");
	CHECK(REFUSED_NUL("\0\n", "line 1: a NUL byte"), "a line of just a NUL");
	CHECK(REFUSED_NUL("1.2.3.4:allow\0\n", "line 1: a NUL byte"), "a NUL at the end of a line");
	CHECK(REFUSED_NUL("1.2.3.4:allow\0", "line 1: a NUL byte"), "a NUL at the end of the text");
	CHECK(REFUSED_NUL("1.2.3.4:allow\n# a comment \0 with a NUL\n", "line 2: a NUL byte"), "a NUL in a comment too");

	CHECK(refused("# head\r\n\r\n  # indented comment\n1.2.3.4:allow\r\n\t\n10.1.:deny\r\n10.1.2.3-1:allow\r\n",
	              "line 7: " ADDR), "the line counted over comments, blanks and CRLF");

	/* --- the output after a failure, and parsing again --- */

	CHECK(parse("1.2.3.4:allow,X=1\n") == 1 && R.n == 1, "a good file");
	CHECK(parse("1.2.3.4:allow,X=1\nbad\n") == 0 && R.n == 0 && R.r == 0 && R.env.len == 0 && line_of("1.2.3.4") == 0,
	      "a bad one after it leaves no rule: nothing matches");
	CHECK(parse("5.6.7.8:allow,Y=2\n") == 1 && R.n == 1 && strcmp(env_of("5.6.7.8"), "Y=2") == 0 &&
	      line_of("1.2.3.4") == 0, "and a good one after that holds only its own rules");
	for (k = 0, bad = 0; k < 200; k++)
		if (parse(k % 2 ? ":allow,C=3\n" : "10.:allow,A=1,B=\"2\"\n::/0:deny\n") != 1)
			bad++;
	CHECK(bad == 0 && R.n == 1 && strcmp(env_of("::1"), "C=3") == 0,
	      "200 parses into the same rules (the leak checker sees any not freed)");
	rules_free(&R);
	CHECK(R.n == 0 && R.r == 0 && R.env.s == 0, "rules_free empties");
	rules_free(&R);
	CHECK(R.n == 0 && line_of("1.1.1.1") == 0, "and may be called twice");

	/* --- random files against the plain matcher --- */

	hits = misses = 0;
	CHECK(random_rounds(3000, &hits, &misses) == 0, "3000 random files of up to 16 rules: the same rule as a plain matcher");
	CHECK(hits > 20000 && misses > 5000, "with both matches and misses among the addresses tried");

	rules_free(&R);
	str_free(&why);
	return check_done();
}
