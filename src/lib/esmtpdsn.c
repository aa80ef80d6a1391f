#include <string.h>
#include "esmtpdsn.h"
#include "ascii.h"
#include "case.h"

static int upper_hex(int c) { return ascii_digit(c) || (c >= 'A' && c <= 'F'); }
static unsigned hex_value(int c) { return ascii_digit(c) ? (unsigned)(c - '0') : (unsigned)(c - 'A' + 10); }

int xtext_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '+') {
			if (i + 2 >= n)
				return 0;
			if (!upper_hex(s[i + 1]) || !upper_hex(s[i + 2]))
				return 0;
			i += 2;
		} else if (!ascii_vchar(c) || c == '=')
			return 0;
	}
	return 1;
}

int xtext_decode(struct str *out, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char c = s[i];
		if (c == '+' && i + 2 < n) {
			c = (char)(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
			i += 2;
		}
		if (!str_catc(out, c))
			return 0;
	}
	return 1;
}

int xtext_encode(struct str *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (ascii_vchar(c) && c != '+' && c != '=') {
			if (!str_catc(out, (char)c))
				return 0;
		} else if (!str_catc(out, '+') || !str_catc(out, hex[c >> 4]) || !str_catc(out, hex[c & 15]))
			return 0;
	}
	return 1;
}

static const struct {
	const char *name;
	unsigned bit;
} notify_words[] = {
	{ "SUCCESS", DSN_NOTIFY_SUCCESS },
	{ "FAILURE", DSN_NOTIFY_FAILURE },
	{ "DELAY", DSN_NOTIFY_DELAY },
};

unsigned dsn_notify_parse(const char *s, size_t n)
{
	unsigned bits = 0;
	size_t pos = 0;

	if (case_eqb(s, n, "NEVER", 5))
		return DSN_NOTIFY_NEVER;
	for (;;) {
		const char *comma = memchr(s + pos, ',', n - pos);
		size_t wl = comma ? (size_t)(comma - (s + pos)) : n - pos, k;
		unsigned bit = 0;
		for (k = 0; k < sizeof notify_words / sizeof notify_words[0]; k++)
			if (case_eqb(s + pos, wl, notify_words[k].name, strlen(notify_words[k].name)))
				bit = notify_words[k].bit;
		if (!bit || (bits & bit))
			return 0; /* unknown, empty, NEVER among others, or twice */
		bits |= bit;
		if (!comma)
			return bits;
		pos += wl + 1;
	}
}

int dsn_notify_cat(struct str *out, unsigned bits)
{
	size_t k;
	int first = 1;

	if (bits & DSN_NOTIFY_NEVER)
		return str_cats(out, "NEVER");
	for (k = 0; k < sizeof notify_words / sizeof notify_words[0]; k++) {
		if (!(bits & notify_words[k].bit))
			continue;
		if ((!first && !str_catc(out, ',')) || !str_cats(out, notify_words[k].name))
			return 0;
		first = 0;
	}
	return 1;
}

int dsn_ret_parse(const char *s, size_t n)
{
	if (case_eqb(s, n, "FULL", 4))
		return DSN_RET_FULL;
	if (case_eqb(s, n, "HDRS", 4))
		return DSN_RET_HDRS;
	return 0;
}

int dsn_envid_ok(const char *s, size_t n) { return n <= DSN_ENVID_MAX && xtext_ok(s, n); }

int dsn_orcpt_ok(const char *s, size_t n)
{
	const char *semi = memchr(s, ';', n);
	size_t tl, i;

	if (!semi)
		return 0;
	tl = (size_t)(semi - s);
	if (tl == 0 || tl > DSN_ADDRTYPE_MAX)
		return 0;
	for (i = 0; i < tl; i++)
		if (!ascii_alnum(s[i]) && s[i] != '-')
			return 0;
	return n - tl - 1 <= DSN_ORCPT_MAX && xtext_ok(semi + 1, n - tl - 1);
}

int dsn_mail_params(struct str *out, int ret, const char *envid, size_t envid_len)
{
	if (ret && !str_cats(out, ret == DSN_RET_FULL ? "RET=FULL" : "RET=HDRS"))
		return 0;
	if (envid_len && ((ret && !str_catc(out, ' ')) || !str_cats(out, "ENVID=") ||
	                  !str_catb(out, envid, envid_len)))
		return 0;
	return 1;
}

int dsn_rcpt_params(struct str *out, unsigned notify, const char *orcpt, size_t orcpt_len)
{
	if (notify && (!str_cats(out, "NOTIFY=") || !dsn_notify_cat(out, notify)))
		return 0;
	if (orcpt_len && ((notify && !str_catc(out, ' ')) || !str_cats(out, "ORCPT=") ||
	                  !str_catb(out, orcpt, orcpt_len)))
		return 0;
	return 1;
}

/* One KEY=VALUE at s[*pos..): its value checked by ok; *pos moves past it
 * and the space after it.  1 if the key is there and good, 0 if the key is
 * not there, -1 if it is there and bad. */
static int param(const char *s, size_t n, size_t *pos, const char *key, int (*ok)(const char *, size_t))
{
	size_t kl = strlen(key), end;
	const char *sp;

	if (n - *pos <= kl || memcmp(s + *pos, key, kl) != 0)
		return 0;
	sp = memchr(s + *pos, ' ', n - *pos);
	end = sp ? (size_t)(sp - s) : n;
	if (!ok(s + *pos + kl, end - *pos - kl))
		return -1;
	*pos = sp ? end + 1 : n;
	return sp && *pos == n ? -1 : 1; /* a trailing space */
}

static int ret_ok(const char *s, size_t n) { return (n == 4 && memcmp(s, "FULL", 4) == 0) || (n == 4 && memcmp(s, "HDRS", 4) == 0); }

unsigned dsn_notify_canonical(const char *s, size_t n)
{
	struct str c = STR_INIT;
	unsigned bits = dsn_notify_parse(s, n);

	if (bits && (!dsn_notify_cat(&c, bits) || c.len != n || memcmp(c.s, s, n) != 0))
		bits = 0;
	str_free(&c);
	return bits;
}

static int notify_ok(const char *s, size_t n) { return dsn_notify_canonical(s, n) != 0; }

int dsn_params_ok(const char *s, size_t n, int rcpt)
{
	size_t pos = 0;
	int a, b;

	if (n > DSN_PARAMS_MAX)
		return 0;
	a = param(s, n, &pos, rcpt ? "NOTIFY=" : "RET=", rcpt ? notify_ok : ret_ok);
	if (a < 0)
		return 0;
	b = param(s, n, &pos, rcpt ? "ORCPT=" : "ENVID=", rcpt ? dsn_orcpt_ok : dsn_envid_ok);
	return b >= 0 && pos == n;
}

int dsn_params_get(const char *s, size_t n, const char *key, const char **v, size_t *vl)
{
	size_t kl = strlen(key), pos = 0;

	while (pos < n) {
		const char *sp = memchr(s + pos, ' ', n - pos);
		size_t end = sp ? (size_t)(sp - s) : n;
		if (end - pos >= kl && memcmp(s + pos, key, kl) == 0) {
			*v = s + pos + kl;
			*vl = end - pos - kl;
			return 1;
		}
		pos = end + 1;
	}
	return 0;
}
