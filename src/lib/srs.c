#include <string.h>
#include "srs.h"
#include "addr.h"
#include "ascii.h"
#include "case.h"

#define HASH_CHARS 6 /* 30 bits */
static const char base32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

static int base32_value(int c)
{
	c = ascii_tolower(c);
	if (ascii_lower(c))
		return c - 'a';
	if (c >= '2' && c <= '7')
		return c - '2' + 26;
	return -1;
}

static int hexval(int c)
{
	c = ascii_tolower(c);
	return ascii_digit(c) ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int srs_keys_parse(struct srs_keys *keys, const char *text, size_t n)
{
	size_t pos = 0;

	keys->n = 0;
	while (pos < n) {
		const char *nl = memchr(text + pos, '\n', n - pos);
		size_t end = nl ? (size_t)(nl - text) : n, len = end - pos, i;
		const char *line = text + pos;

		pos = end + 1;
		while (len > 0 && ascii_wsp_cr(line[len - 1]))
			len--;
		if (len == 0 || line[0] == '#')
			continue;
		if (len != 2 * SIPHASH_KEY_BYTES || keys->n == SRS_KEYS_MAX)
			goto bad;
		for (i = 0; i < SIPHASH_KEY_BYTES; i++) {
			int hi = hexval(line[2 * i]), lo = hexval(line[2 * i + 1]);
			if (hi < 0 || lo < 0)
				goto bad;
			keys->k[keys->n][i] = (unsigned char)(hi << 4 | lo);
		}
		keys->n++;
	}
	if (keys->n > 0)
		return 1;
bad:
	memset(keys, 0, sizeof *keys);
	return 0;
}

unsigned long srs_day(long long now)
{
	return now < 0 ? 0 : (unsigned long)(now / 86400);
}

/* The hash of the signed text under key k, in base32. */
static void sign(char out[HASH_CHARS], const unsigned char *k, const char *text, size_t n)
{
	unsigned char lower[2 * ADDR_MAX];
	uint64_t h;
	size_t i;

	/* callers never pass more: every signed text is part of an address */
	if (n > sizeof lower)
		n = sizeof lower;
	for (i = 0; i < n; i++)
		lower[i] = (unsigned char)ascii_tolower((unsigned char)text[i]);
	h = siphash24(k, lower, n);
	for (i = 0; i < HASH_CHARS; i++)
		out[i] = base32[(h >> (5 * i)) & 31];
}

/* 1 if hash (hn bytes, any case) signs text under one of the keys */
static int signed_by(const struct srs_keys *keys, const char *hash, size_t hn, const char *text, size_t n)
{
	char want[HASH_CHARS];
	size_t i;

	if (hn != HASH_CHARS)
		return 0;
	for (i = 0; i < keys->n; i++) {
		sign(want, keys->k[i], text, n);
		if (case_eqn(want, hash, HASH_CHARS))
			return 1;
	}
	return 0;
}

static int separator(int c) { return c == '=' || c == '+' || c == '-'; }

int srs_local_is(const char *local, size_t n)
{
	return n > 5 && (case_eqn(local, "SRS0", 4) || case_eqn(local, "SRS1", 4)) && separator(local[4]);
}

/* A byte that may stand in a dot-atom local part (RFC 5322 atext and '.'),
 * or a UTF-8 byte (RFC 6531) */
static int local_byte(unsigned char c)
{
	return ascii_alnum(c) || c == '.' || c >= 0x80 || (c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

static int local_bytes(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!local_byte((unsigned char)s[i]))
			return 0;
	return n > 0;
}

int srs_forward(struct str *out, const char *sender, size_t n, const char *domain, size_t dn,
                const struct srs_keys *keys, unsigned long day)
{
	size_t at = addr_at(sender, n), mark;
	const char *local = sender, *host = sender + at + 1;
	size_t ln = at, hn = n - at - (at < n);
	char hash[HASH_CHARS], tt[2];

	out->len = 0;
	if (n == 0 || at == n || keys->n == 0 || !local_bytes(local, ln) || !local_bytes(host, hn) ||
	    memchr(host, '=', hn) || !domain_check(host, hn))
		return SRS_SKIP;
	if (!str_cats(out, "SRS"))
		return SRS_NOMEM;
	mark = out->len;
	if (srs_local_is(local, ln) && case_eqn(local, "SRS1", 4)) {
		/* SRS1<sep>HASH=first.host=<sep>rest: keep the first forwarder
		 * and what it signed; sign it anew as ours */
		const char *p = local + 5, *end = local + ln, *eq1, *eq2;
		eq1 = memchr(p, '=', (size_t)(end - p));
		eq2 = eq1 ? memchr(eq1 + 1, '=', (size_t)(end - eq1 - 1)) : 0;
		if (!eq2 || end - eq2 < 3 || !separator(eq2[1]) || !domain_check(eq1 + 1, (size_t)(eq2 - eq1 - 1)))
			goto plain;
		if (!str_cats(out, "1="))
			return SRS_NOMEM;
		sign(hash, keys->k[0], eq1 + 1, (size_t)(end - eq1 - 1));
		if (!str_catb(out, hash, HASH_CHARS) || !str_catc(out, '=') || !str_catb(out, eq1 + 1, (size_t)(end - eq1 - 1)))
			return SRS_NOMEM;
		goto domain;
	}
	if (srs_local_is(local, ln)) {
		/* SRS0<sep>rest@host: SRS1=HASH=host=<sep>rest */
		struct str signed_text = STR_INIT;
		int ok = str_catb(&signed_text, host, hn) && str_catc(&signed_text, '=') &&
		         str_catb(&signed_text, local + 4, ln - 4);
		if (ok)
			sign(hash, keys->k[0], signed_text.s, signed_text.len);
		ok = ok && str_cats(out, "1=") && str_catb(out, hash, HASH_CHARS) && str_catc(out, '=') &&
		     str_cat(out, &signed_text);
		str_free(&signed_text);
		if (!ok)
			return SRS_NOMEM;
		goto domain;
	}
plain:
	out->len = mark;
	tt[0] = base32[(day >> 5) & 31];
	tt[1] = base32[day & 31];
	if (!str_cats(out, "0="))
		return SRS_NOMEM;
	mark = out->len + HASH_CHARS + 1; /* where the signed text will start */
	if (!str_catb(out, "XXXXXX=", HASH_CHARS + 1) || !str_catb(out, tt, 2) || !str_catc(out, '=') ||
	    !str_catb(out, host, hn) || !str_catc(out, '=') || !str_catb(out, local, ln))
		return SRS_NOMEM;
	sign(hash, keys->k[0], out->s + mark, out->len - mark);
	memcpy(out->s + mark - HASH_CHARS - 1, hash, HASH_CHARS);
domain:
	if (!str_catc(out, '@') || !str_catb(out, domain, dn))
		return SRS_NOMEM;
	if (addr_check(out->s, out->len) != ADDR_OK) {
		out->len = 0;
		return SRS_SKIP;
	}
	return SRS_OK;
}

int srs_reverse(struct str *out, const char *local, size_t n, const struct srs_keys *keys, unsigned long day)
{
	const char *p, *end = local + n, *eq, *eq2;
	int tt_hi, tt_lo;
	unsigned long age;

	out->len = 0;
	if (!srs_local_is(local, n))
		return SRS_NOT;
	p = local + 5;
	eq = memchr(p, '=', (size_t)(end - p));
	if (!eq)
		return SRS_MALFORMED;
	if (case_eqn(local, "SRS1", 4)) {
		/* HASH=first.host=<sep>rest: back to SRS0<sep>rest@first.host */
		eq2 = memchr(eq + 1, '=', (size_t)(end - eq - 1));
		if (!eq2 || eq2 == eq + 1 || end - eq2 < 3 || !separator(eq2[1]))
			return SRS_MALFORMED;
		if (!signed_by(keys, p, (size_t)(eq - p), eq + 1, (size_t)(end - eq - 1)))
			return SRS_BADHASH;
		if (!str_cats(out, "SRS0") || !str_catb(out, eq2 + 1, (size_t)(end - eq2 - 1)) || !str_catc(out, '@') ||
		    !str_catb(out, eq + 1, (size_t)(eq2 - eq - 1)))
			return SRS_NOMEM;
	} else {
		/* HASH=TT=domain=local */
		const char *signed_text = eq + 1, *dom, *dom_end;
		if (end - signed_text < 6 || signed_text[2] != '=')
			return SRS_MALFORMED;
		tt_hi = base32_value(signed_text[0]);
		tt_lo = base32_value(signed_text[1]);
		dom = signed_text + 3;
		dom_end = memchr(dom, '=', (size_t)(end - dom));
		if (tt_hi < 0 || tt_lo < 0 || !dom_end || dom_end == dom || dom_end + 1 == end)
			return SRS_MALFORMED;
		if (!signed_by(keys, p, (size_t)(eq - p), signed_text, (size_t)(end - signed_text)))
			return SRS_BADHASH;
		/* dated today or up to SRS_MAXAGE_DAYS ago; a day ahead is a
		 * clock set back since */
		age = (day - (unsigned long)(tt_hi << 5 | tt_lo)) & 1023;
		if (age > SRS_MAXAGE_DAYS && age != 1023)
			return SRS_EXPIRED;
		if (!str_catb(out, dom_end + 1, (size_t)(end - dom_end - 1)) || !str_catc(out, '@') ||
		    !str_catb(out, dom, (size_t)(dom_end - dom)))
			return SRS_NOMEM;
	}
	if (addr_check(out->s, out->len) != ADDR_OK) {
		out->len = 0;
		return SRS_MALFORMED;
	}
	return SRS_OK;
}

const char *srs_strerror(int code)
{
	switch (code) {
	case SRS_OK: return "ok";
	case SRS_NOT: return "not an SRS address";
	case SRS_SKIP: return "sender left as it is";
	case SRS_MALFORMED: return "malformed SRS address";
	case SRS_BADHASH: return "SRS address with a bad signature";
	case SRS_EXPIRED: return "expired SRS address";
	case SRS_NOMEM: return "out of memory";
	}
	return "unknown SRS result";
}
