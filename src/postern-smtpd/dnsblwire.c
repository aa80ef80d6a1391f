/* The blocklist side of DNS (RFC 5782): see dnsblwire.h. */
#include <string.h>
#include "dnsblwire.h"
#include "ascii.h"

static int ldh(unsigned char c)
{
	return ascii_lower(c) || ascii_digit(c) || c == '-';
}

/* A zone name: labels of letters, digits and hyphens (lower-cased into
 * out), dots between, at most DNSBL_ZONE_MAX bytes, one trailing dot let go. */
static int zone_name(const char *s, size_t n, char *out, const char **why)
{
	size_t i, label = 0;

	if (n && s[n - 1] == '.')
		n--;
	if (n == 0) {
		*why = "no zone";
		return -1;
	}
	if (n > DNSBL_ZONE_MAX) {
		*why = "zone longer than 189 bytes";
		return -1;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)ascii_tolower((unsigned char)s[i]);
		if (c == '.') {
			if (label == 0) {
				*why = "empty label in the zone";
				return -1;
			}
			label = 0;
		} else if (!ldh(c)) {
			*why = "zone has a byte other than a letter, digit, hyphen or dot";
			return -1;
		} else if (++label > 63) {
			*why = "label longer than 63 bytes in the zone";
			return -1;
		}
		out[i] = (char)c;
	}
	if (label == 0) {
		*why = "empty label in the zone";
		return -1;
	}
	out[n] = 0;
	return 0;
}

/* A number of 0 to 255 at *p: no sign, at most three digits, no leading
 * zero (010 would be 8 to some readers). */
static int octet(const char **p, unsigned char *out)
{
	unsigned v = 0;
	int digits = 0;

	if ((*p)[0] == '0' && (*p)[1] >= '0' && (*p)[1] <= '9')
		return -1;
	while (**p >= '0' && **p <= '9' && digits < 4) {
		v = v * 10 + (unsigned)(**p - '0');
		(*p)++;
		digits++;
	}
	if (digits == 0 || digits > 3 || v > 255)
		return -1;
	*out = (unsigned char)v;
	return 0;
}

/* One code, s to end: four numbers or ranges [A..B], dots between. */
static int code_parse(const char *s, const char *end, struct dnsbl_code *c)
{
	int i;

	for (i = 0; i < 4; i++) {
		if (i && (s == end || *s++ != '.'))
			return -1;
		if (s < end && *s == '[') {
			s++;
			if (octet(&s, &c->lo[i]) == -1 || end - s < 2 || s[0] != '.' || s[1] != '.')
				return -1;
			s += 2;
			if (octet(&s, &c->hi[i]) == -1 || s == end || *s++ != ']' || c->hi[i] < c->lo[i])
				return -1;
		} else {
			if (octet(&s, &c->lo[i]) == -1)
				return -1;
			c->hi[i] = c->lo[i];
		}
	}
	return s == end ? 0 : -1;
}

int dnsbl_zone_parse(const char *line, struct dnsbl_zone *z, const char **why)
{
	const char *eq = strchr(line, '='), *p;
	size_t zlen = eq ? (size_t)(eq - line) : strlen(line);

	z->ncodes = 0;
	if (zone_name(line, zlen, z->name, why) == -1)
		return -1;
	if (!eq)
		return 0;
	p = eq + 1;
	for (;;) {
		const char *end = strchr(p, ',');
		if (!end)
			end = p + strlen(p);
		if (z->ncodes == DNSBL_CODES_MAX) {
			*why = "more than 16 answer codes";
			return -1;
		}
		if (code_parse(p, end, &z->codes[z->ncodes]) == -1) {
			*why = "an answer code is not an IPv4 address (its numbers may be ranges, [2..11])";
			return -1;
		}
		z->ncodes++;
		if (!*end)
			return 0;
		p = end + 1;
	}
}

/* An answer no list means as a listing: an error code of the list's own
 * (Spamhaus's 127.255.255.x: a query from a public resolver, too many
 * queries), or an address outside 127.0.0.0/8, which a list's expired
 * domain answers for every name. */
static int odd_code(const unsigned char *a)
{
	return a[0] != 127 || (a[1] == 255 && a[2] == 255);
}

static int listing(const struct dnsbl_zone *z, const unsigned char *a)
{
	size_t k;

	if (!z->ncodes)
		return !odd_code(a);
	for (k = 0; k < z->ncodes; k++) {
		const struct dnsbl_code *c = &z->codes[k];
		int i;
		for (i = 0; i < 4 && a[i] >= c->lo[i] && a[i] <= c->hi[i]; i++)
			;
		if (i == 4)
			return 1;
	}
	return 0;
}

enum dnsbl_result dnsbl_judge(const struct dnsbl_zone *z, unsigned char a[][4], size_t na, size_t *which)
{
	size_t i, odd = na;

	for (i = 0; i < na; i++) {
		if (listing(z, a[i])) {
			*which = i;
			return DNSBL_LISTED;
		}
		if (odd == na && odd_code(a[i]))
			odd = i;
	}
	if (odd < na) {
		*which = odd;
		return DNSBL_ODD;
	}
	return DNSBL_CLEAN;
}
