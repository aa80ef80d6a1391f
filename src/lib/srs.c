#include <string.h>
#include "srs.h"
#include "addr.h"
#include "ascii.h"
#include "case.h"

#define HASH_CHARS 8 /* 40 bits */
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

/* The hash of the signed text under key k, in base32: the address's type
 * ('0' or '1') and then the text after the hash, lower-cased, so that
 * neither the type nor the case can be changed under a signature. */
static void sign(char out[HASH_CHARS], const unsigned char *k, char type, const char *text, size_t n)
{
	unsigned char lower[1 + 2 * ADDR_MAX];
	uint64_t h;
	size_t i;

	/* callers never pass more: every signed text is part of an address */
	if (n > sizeof lower - 1)
		n = sizeof lower - 1;
	lower[0] = (unsigned char)type;
	for (i = 0; i < n; i++)
		lower[1 + i] = (unsigned char)ascii_tolower((unsigned char)text[i]);
	h = siphash24(k, lower, n + 1);
	for (i = 0; i < HASH_CHARS; i++)
		out[i] = base32[(h >> (5 * i)) & 31];
}

/* 1 if hash (hn bytes, any case) signs type and text under one of the keys */
static int signed_by(const struct srs_keys *keys, const char *hash, size_t hn, char type, const char *text, size_t n)
{
	char want[HASH_CHARS];
	size_t i;

	if (hn != HASH_CHARS)
		return 0;
	for (i = 0; i < keys->n; i++) {
		sign(want, keys->k[i], type, text, n);
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
 * or a UTF-8 byte (RFC 6531); not '%' nor '!', the old source routes that
 * postern-smtpd refuses in a local part, so no SRS address of ours can
 * stand for one */
static int local_byte(unsigned char c)
{
	return ascii_alnum(c) || c == '.' || c >= 0x80 || (c != 0 && strchr("#$&'*+-/=?^_`{|}~", c));
}

/* n > 0 bytes that can go into the middle of a dot-atom: local_byte
 * each, no two dots together, and (as the SRS address's local part ends
 * with them) not a dot at the end */
static int local_bytes(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!local_byte((unsigned char)s[i]) || (s[i] == '.' && i + 1 < n && s[i + 1] == '.'))
			return 0;
	return n > 0 && s[n - 1] != '.';
}

static void date_chars(char tt[2], unsigned long day)
{
	tt[0] = base32[(day >> 5) & 31];
	tt[1] = base32[day & 31];
}

/* out += "SRS<type>=HASH=" and text (n bytes), signed with key k */
static int signed_cat(struct str *out, const unsigned char *k, char type, const char *text, size_t n)
{
	char hash[HASH_CHARS];

	sign(hash, k, type, text, n);
	return str_cats(out, type == '0' ? "SRS0=" : "SRS1=") && str_catb(out, hash, HASH_CHARS) &&
	       str_catc(out, '=') && str_catb(out, text, n);
}

int srs_forward(struct str *out, const char *sender, size_t n, const char *domain, size_t dn,
                const struct srs_keys *keys, unsigned long day)
{
	size_t at = addr_at(sender, n), ln = at, hn;
	const char *local = sender, *host;
	struct str text = STR_INIT;
	char tt[2], type = '0';
	int ok;

	out->len = 0;
	if (n == 0 || at == n || keys->n == 0)
		return SRS_SKIP;
	host = sender + at + 1;
	hn = n - at - 1;
	if (!local_bytes(local, ln) || !local_bytes(host, hn) || memchr(host, '=', hn) || !domain_check(host, hn))
		return SRS_SKIP;
	date_chars(tt, day);
	/* the signed text, after the hash: TT=domain=local for a plain
	 * sender; TT=first.host=<sep>rest for another host's SRS0 address
	 * (first.host its domain) or SRS1 address (first.host the forwarder
	 * it names: what that one signed is kept, the one between dropped) */
	ok = str_catb(&text, tt, 2) && str_catc(&text, '=');
	if (srs_local_is(local, ln) && case_eqn(local, "SRS1", 4)) {
		const char *p = local + 5, *end = local + ln, *eq1, *eq2;
		eq1 = memchr(p, '=', (size_t)(end - p));
		eq2 = eq1 ? memchr(eq1 + 1, '=', (size_t)(end - eq1 - 1)) : 0;
		if (eq2 && end - eq2 >= 3 && separator(eq2[1]) && domain_check(eq1 + 1, (size_t)(eq2 - eq1 - 1))) {
			type = '1';
			ok = ok && str_catb(&text, eq1 + 1, (size_t)(end - eq1 - 1));
		}
	} else if (srs_local_is(local, ln)) {
		type = '1';
		ok = ok && str_catb(&text, host, hn) && str_catc(&text, '=') && str_catb(&text, local + 4, ln - 4);
	}
	if (type == '0')
		ok = ok && str_catb(&text, host, hn) && str_catc(&text, '=') && str_catb(&text, local, ln);
	ok = ok && signed_cat(out, keys->k[0], type, text.s, text.len) && str_catc(out, '@') &&
	     str_catb(out, domain, dn);
	str_free(&text);
	if (!ok)
		return SRS_NOMEM;
	if (out->len > SRS_ADDR_MAX || addr_check(out->s, out->len) != ADDR_OK) {
		out->len = 0;
		return SRS_SKIP;
	}
	return SRS_OK;
}

int srs_reverse(struct str *out, const char *local, size_t n, const struct srs_keys *keys, unsigned long day)
{
	const char *hash, *text, *end = local + n, *field, *field_end;
	int tt_hi, tt_lo;
	unsigned long age;
	char type;

	out->len = 0;
	if (!srs_local_is(local, n))
		return SRS_NOT;
	type = local[3];
	/* HASH=TT=FIELD=REST: FIELD the original domain (SRS0) or the first
	 * forwarder (SRS1), REST the original local part (SRS0) or <sep> and
	 * the rest of the first forwarder's SRS0 address (SRS1) */
	hash = local + 5;
	text = hash + HASH_CHARS + 1;
	if (end - text < 6 || hash[HASH_CHARS] != '=' || text[2] != '=')
		return SRS_MALFORMED;
	tt_hi = base32_value(text[0]);
	tt_lo = base32_value(text[1]);
	field = text + 3;
	field_end = memchr(field, '=', (size_t)(end - field));
	if (tt_hi < 0 || tt_lo < 0 || !field_end || field_end == field || field_end + 1 == end)
		return SRS_MALFORMED;
	if (type == '1' && (end - field_end < 3 || !separator(field_end[1])))
		return SRS_MALFORMED;
	if (!signed_by(keys, hash, HASH_CHARS, type, text, (size_t)(end - text)))
		return SRS_BADHASH;
	/* dated today or up to SRS_MAXAGE_DAYS ago; a day ahead is a clock
	 * set back since */
	age = (day - (unsigned long)(tt_hi << 5 | tt_lo)) & 1023;
	if (age > SRS_MAXAGE_DAYS && age != 1023)
		return SRS_EXPIRED;
	if (type == '1') {
		if (!str_cats(out, "SRS0") || !str_catb(out, field_end + 1, (size_t)(end - field_end - 1)))
			return SRS_NOMEM;
	} else if (!str_catb(out, field_end + 1, (size_t)(end - field_end - 1))) {
		return SRS_NOMEM;
	}
	if (!str_catc(out, '@') || !str_catb(out, field, (size_t)(field_end - field)))
		return SRS_NOMEM;
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
	case SRS_UNAVAILABLE: return "SRS key unavailable";
	}
	return "unknown SRS result";
}
