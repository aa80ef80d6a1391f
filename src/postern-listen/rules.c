#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "rules.h"
#include "fmt.h"

static int fail(struct str *why, size_t line, const char *text)
{
	str_truncate(why, 0);
	if (!str_cats(why, "line ") || !str_catu(why, line) || !str_cats(why, ": ") || !str_cats(why, text))
		return -1;
	return 0;
}

/* A whole decimal number of at most 3 digits and no leading zero. */
static int small_number(const char *s, size_t n, unsigned long long *v)
{
	return n > 0 && n <= 3 && (n == 1 || s[0] != '0') && scan_ulong_all(s, n, v);
}

/* "a.", "a.b." or "a.b.c.": each number 0-255, no leading zeros beyond "0". */
static int ipv4_prefix(const char *s, size_t n, struct rule *r)
{
	size_t i = 0, k = 0;

	while (i < n) {
		const char *dot = memchr(s + i, '.', n - i);
		unsigned long long v;
		size_t d;
		if (!dot || k == 3)
			return 0;
		d = (size_t)(dot - (s + i));
		if (!small_number(s + i, d, &v) || v > 255)
			return 0;
		r->addr[k++] = (unsigned char)v;
		i += d + 1;
	}
	r->family = AF_INET;
	r->bits = 8 * (unsigned)k;
	return k > 0;
}

/* Copies s[0..n) NUL-terminated into buf (size cap), or returns 0. */
static int cut(char *buf, size_t cap, const char *s, size_t n)
{
	if (n >= cap)
		return 0;
	memcpy(buf, s, n);
	buf[n] = 0;
	return 1;
}

static int parse_address(const char *s, size_t n, struct rule *r)
{
	char buf[64];
	const char *slash = memchr(s, '/', n), *dash = memchr(s, '-', n);

	memset(r->addr, 0, sizeof r->addr);
	if (n == 0) {
		r->family = 0;
		r->bits = 0;
		return 1;
	}
	if (slash) {
		unsigned long long bits;
		size_t a = (size_t)(slash - s);
		if (!cut(buf, sizeof buf, s, a) || !small_number(slash + 1, n - a - 1, &bits))
			return 0;
		if (inet_pton(AF_INET, buf, r->addr) == 1 && bits <= 32)
			r->family = AF_INET;
		else if (inet_pton(AF_INET6, buf, r->addr) == 1 && bits <= 128)
			r->family = AF_INET6;
		else
			return 0;
		r->bits = (unsigned)bits;
		return 1;
	}
	if (memchr(s, ':', n)) {
		if (!cut(buf, sizeof buf, s, n) || inet_pton(AF_INET6, buf, r->addr) != 1)
			return 0;
		r->family = AF_INET6;
		r->bits = 128;
		return 1;
	}
	if (s[n - 1] == '.')
		return ipv4_prefix(s, n, r);
	if (dash) {
		unsigned long long hi;
		size_t a = (size_t)(dash - s);
		if (!cut(buf, sizeof buf, s, a) || inet_pton(AF_INET, buf, r->addr) != 1 ||
		    !small_number(dash + 1, n - a - 1, &hi) || hi > 255 || hi < r->addr[3])
			return 0;
		r->family = AF_INET;
		r->bits = 24;
		r->range = 1;
		r->last_hi = (unsigned char)hi;
		return 1;
	}
	if (!cut(buf, sizeof buf, s, n) || inet_pton(AF_INET, buf, r->addr) != 1)
		return 0;
	r->family = AF_INET;
	r->bits = 32;
	return 1;
}

static int name_char(char c, int first)
{
	return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (!first && c >= '0' && c <= '9');
}

int rules_reserved(const char *name, size_t n)
{
	return (n >= 3 && memcmp(name, "TCP", 3) == 0) || (n == 5 && memcmp(name, "PROTO", 5) == 0);
}

const char *rules_env(const struct rules *rs, const struct rule *r, size_t k)
{
	const char *p = rs->env.s + r->env_off;

	while (k--)
		p += strlen(p) + 1;
	return p;
}

int rules_sets(const struct rules *rs, const struct rule *r, const char *name, size_t n)
{
	size_t k;

	for (k = 0; r && k < r->env_n; k++) {
		const char *v = rules_env(rs, r, k);
		if (strncmp(v, name, n) == 0 && v[n] == '=')
			return 1;
	}
	return 0;
}

/* ",NAME=VALUE" or ",NAME=\"VALUE\"" items after allow; returns the bytes
 * used (all of s on success) or 0 with *err set. */
static int parse_env(const char *s, size_t n, struct rules *out, struct rule *r, const char **err)
{
	size_t i = 0;

	while (i < n) {
		size_t name, nlen, vstart, vlen;
		if (s[i] != ',') {
			*err = "expected ',' before a variable";
			return 0;
		}
		name = ++i;
		while (i < n && name_char(s[i], i == name))
			i++;
		nlen = i - name;
		if (nlen == 0 || i >= n || s[i] != '=') {
			*err = "a variable is NAME=VALUE, NAME of letters, digits and _";
			return 0;
		}
		if (rules_reserved(s + name, nlen)) {
			*err = "TCP... and PROTO are set by postern-listen, not by a rule";
			return 0;
		}
		i++;
		if (i < n && s[i] == '"') {
			const char *q = memchr(s + i + 1, '"', n - i - 1);
			if (!q) {
				*err = "a quoted value has no closing quote";
				return 0;
			}
			vstart = i + 1;
			vlen = (size_t)(q - (s + vstart));
			i = (size_t)(q - s) + 1;
		} else {
			vstart = i;
			while (i < n && s[i] != ',')
				i++;
			vlen = i - vstart;
		}
		for (size_t k = vstart; k < vstart + vlen; k++)
			if ((unsigned char)s[k] < 0x20 || s[k] == 0x7f) {
				*err = "a control character in a value";
				return 0;
			}
		if (rules_sets(out, r, s + name, nlen)) {
			*err = "a variable set twice";
			return 0;
		}
		if (r->env_n == RULE_ENV_MAX) {
			*err = "more than 16 variables";
			return 0;
		}
		if (!str_catb(&out->env, s + name, nlen + 1) || !str_catb(&out->env, s + vstart, vlen) || !str_catz(&out->env))
			return -1;
		r->env_n++;
	}
	return 1;
}

static int parse_line(const char *s, size_t n, size_t line, struct rules *out, struct str *why)
{
	struct rule r;
	size_t colon, rest;
	const char *err = 0;
	int e;

	memset(&r, 0, sizeof r);
	r.line = line;
	r.env_off = out->env.len;
	/* The instruction follows the first ':' that "allow" or "deny" follows:
	 * neither word can be part of an address, while ':' can (IPv6). */
	for (colon = 0; colon < n; colon++) {
		if (s[colon] != ':')
			continue;
		rest = n - colon - 1;
		if (rest >= 5 && memcmp(s + colon + 1, "allow", 5) == 0 && (rest == 5 || s[colon + 6] == ',')) {
			r.allow = 1;
			break;
		}
		if (rest >= 4 && memcmp(s + colon + 1, "deny", 4) == 0 && (rest == 4 || s[colon + 5] == ','))
			break;
	}
	if (colon == n)
		return fail(why, line, "no \":allow\" or \":deny\"");
	if (s[0] == '=')
		return fail(why, line, "host names are not looked up: name an address");
	if (!parse_address(s, colon, &r))
		return fail(why, line, "not an address, prefix, range or CIDR block");
	if (r.allow) {
		e = parse_env(s + colon + 6, n - colon - 6, out, &r, &err);
		if (e == -1)
			return -1;
		if (e == 0)
			return fail(why, line, err);
	} else if (n - colon - 1 != 4) {
		return fail(why, line, "deny takes no variables");
	}
	if (out->n == RULES_MAX)
		return fail(why, line, "more than 10000 rules");
	if (out->n % 64 == 0) {
		struct rule *m = realloc(out->r, (out->n + 64) * sizeof *m);
		if (!m)
			return -1;
		out->r = m;
	}
	out->r[out->n++] = r;
	return 1;
}

int rules_parse(struct rules *out, const char *text, size_t len, struct str *why)
{
	size_t i = 0, line = 0;

	rules_free(out);
	while (i < len) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - text) : len, a = i, b = end;
		int r;
		line++;
		while (a < b && (text[a] == ' ' || text[a] == '\t'))
			a++;
		while (b > a && (text[b - 1] == ' ' || text[b - 1] == '\t' || text[b - 1] == '\r'))
			b--;
		i = end + 1;
		if (memchr(text + a, 0, b - a))
			r = fail(why, line, "a NUL byte");
		else if (a == b || text[a] == '#')
			continue;
		else
			r = parse_line(text + a, b - a, line, out, why);
		if (r != 1) {
			rules_free(out);
			return r;
		}
	}
	return 1;
}

static int matches(const struct rule *r, int family, const unsigned char *a)
{
	unsigned full = r->bits / 8, rem = r->bits % 8;

	if (r->family == 0)
		return 1;
	if (r->family != family || memcmp(r->addr, a, full) != 0)
		return 0;
	if (rem && ((r->addr[full] ^ a[full]) & (unsigned char)(0xff00 >> rem)))
		return 0;
	if (r->range)
		return a[3] >= r->addr[3] && a[3] <= r->last_hi;
	return 1;
}

/* A range is as specific as the single address it stands for. */
static unsigned weight(const struct rule *r)
{
	return r->range ? 32 : r->bits;
}

const struct rule *rules_match(const struct rules *rs, int family, const unsigned char *addr)
{
	const struct rule *best = 0;
	size_t i;

	for (i = 0; i < rs->n; i++)
		if (matches(&rs->r[i], family, addr) && (!best || weight(&rs->r[i]) > weight(best)))
			best = &rs->r[i];
	return best;
}


void rules_free(struct rules *rs)
{
	free(rs->r);
	rs->r = 0;
	rs->n = 0;
	str_free(&rs->env);
}
