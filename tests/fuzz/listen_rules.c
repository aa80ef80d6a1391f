/* libFuzzer target for postern-listen's rules (src/postern-listen/rules.c):
 * the input is a rules file, read as postern-listen reads control/tcp.smtp,
 * which root's listener parses before it drops to another uid.  Besides the
 * sanitizers' checks it asserts what the listener relies on: a refusal
 * leaves no rule and names a line of the text; a parsed rule is of one
 * family with a prefix that fits it, a range only on IPv4; a deny sets
 * nothing; every variable is NAME=VALUE with a good name, not TCP... nor
 * PROTO, and no control byte.  Then rules_match, on each rule's own address,
 * that address with the bit after its prefix flipped, and addresses cut
 * from the input's last bytes, must give the rule a plain bit-by-bit
 * matcher picks (most specific, then first).  Built and run by
 * tests/fuzz.sh. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "postern-listen/rules.h"

static struct rules rs = RULES_INIT;
static struct str why = STR_INIT;

static unsigned weight(const struct rule *r)
{
	return r->range ? 32 : r->bits;
}

static int bit(const unsigned char *a, unsigned i)
{
	return (a[i / 8] >> (7 - i % 8)) & 1;
}

static int plain_matches(const struct rule *r, int family, const unsigned char *a)
{
	unsigned i;
	if (r->family == 0)
		return 1;
	if (r->family != family)
		return 0;
	for (i = 0; i < r->bits; i++)
		if (bit(r->addr, i) != bit(a, i))
			return 0;
	return !r->range || (a[3] >= r->addr[3] && a[3] <= r->last_hi);
}

static int name_char(char c, int first)
{
	return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (!first && c >= '0' && c <= '9');
}

/* rules_match against the plain matcher, the address in a buffer of
 * exactly its size; then every variable of the rule it gives. */
static void try(int family, const unsigned char *addr)
{
	size_t len = family == AF_INET ? 4 : 16, i, k;
	unsigned char *a = malloc(len);
	const struct rule *got, *want = 0;

	if (!a)
		abort();
	memcpy(a, addr, len);
	got = rules_match(&rs, family, a);
	for (i = 0; i < rs.n; i++)
		if (plain_matches(&rs.r[i], family, addr) && (!want || weight(&rs.r[i]) > weight(want)))
			want = &rs.r[i];
	if (got != want)
		abort();
	free(a);
	if (!got)
		return;
	for (k = 0; k < got->env_n; k++) {
		const char *v = rules_env(&rs, got, k), *eq = strchr(v, '=');
		size_t n;
		if (v < rs.env.s || v >= rs.env.s + rs.env.len || !eq || eq == v)
			abort();
		n = (size_t)(eq - v);
		for (i = 0; i < n; i++)
			if (!name_char(v[i], i == 0))
				abort();
		if ((n >= 3 && memcmp(v, "TCP", 3) == 0) || (n == 5 && memcmp(v, "PROTO", 5) == 0))
			abort();
		for (i = n + 1; v[i]; i++)
			if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
				abort();
		if (v + i >= rs.env.s + rs.env.len)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t i, lines = 1, last = 0;
	int r;

	for (i = 0; i < size; i++)
		lines += data[i] == '\n';
	r = rules_parse(&rs, (const char *)data, size, &why);
	if (r == -1)
		return 0;
	if (r == 0) {
		unsigned long long line = 0;
		if (rs.n != 0 || rs.r || why.len < 9 || memcmp(why.s, "line ", 5) != 0 || why.s[why.len] != 0)
			abort();
		for (i = 5; i < why.len && why.s[i] >= '0' && why.s[i] <= '9'; i++)
			line = line * 10 + (unsigned)(why.s[i] - '0');
		if (line < 1 || line > lines || i + 2 > why.len || why.s[i] != ':' || why.s[i + 1] != ' ')
			abort();
		return 0;
	}
	if (r != 1 || rs.n > RULES_MAX)
		abort();
	for (i = 0; i < rs.n; i++) {
		const struct rule *u = &rs.r[i];
		if (u->line <= last || u->line > lines || u->env_n > RULE_ENV_MAX || (!u->allow && u->env_n))
			abort();
		last = u->line;
		if (u->family == 0 ? u->bits != 0 || u->range
		    : u->family == AF_INET ? u->bits > 32 || (u->range && (u->bits != 24 || u->last_hi < u->addr[3]))
		    : u->family != AF_INET6 || u->bits > 128 || u->range)
			abort();
		if (u->env_n && u->env_off >= rs.env.len)
			abort();
	}
	/* each of (up to) 64 rules' own address, and its neighbour just past the prefix */
	for (i = 0; i < rs.n && i < 64; i++) {
		const struct rule *u = &rs.r[i];
		unsigned char a[16];
		int fam = u->family ? u->family : AF_INET6;
		memcpy(a, u->addr, 16);
		try(fam, a);
		if (!u->family)
			try(AF_INET, a);
		if (u->range)
			a[3] = u->last_hi;
		else if (u->bits < (fam == AF_INET ? 32u : 128u))
			a[u->bits / 8] ^= (unsigned char)(0x80 >> u->bits % 8);
		else
			a[fam == AF_INET ? 3 : 15] ^= 1;
		try(fam, a);
	}
	/* and addresses cut from the input's end */
	if (size >= 16) {
		try(AF_INET, data + size - 4);
		try(AF_INET6, data + size - 16);
	}
	rules_free(&rs);
	return 0;
}
