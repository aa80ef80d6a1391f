/* A domain's TLSRPT record (RFC 8460 3) and the addresses of its mailto:
 * URIs: see tlsrpt.h.  Written by strangers: bounded and checked byte by
 * byte.  The record's grammar:
 *
 *   tlsrpt-record    = tlsrpt-version 1*(field-delim tlsrpt-field) [field-delim]
 *   field-delim      = *WSP ";" *WSP
 *   tlsrpt-field     = tlsrpt-rua / tlsrpt-extension   (rua= required)
 *   tlsrpt-version   = %s"v=TLSRPTv1"
 *   tlsrpt-rua       = %s"rua=" tlsrpt-uri *(*WSP "," *WSP tlsrpt-uri)
 *   tlsrpt-extension = tlsrpt-ext-name "=" tlsrpt-ext-value
 *   tlsrpt-ext-name  = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".")
 *   tlsrpt-ext-value = 1*(%x21-3A / %x3C / %x3E-7E)
 *
 * (commas, '!' and ';' in a URI are %-encoded); trailing blanks are let
 * by. */
#include <string.h>
#include "tlsrpt.h"
#include "ascii.h"

static size_t wsp(const char *s, size_t n, size_t p)
{
	while (p < n && ascii_wsp(s[p]))
		p++;
	return p;
}

/* a URI's scheme then ':' then VCHARs but ',' and ';': its end, or 0 */
static size_t uri_end(const char *s, size_t n, size_t p)
{
	size_t q = p;

	if (q >= n || !ascii_alpha(s[q]))
		return 0;
	while (q < n && (ascii_alnum(s[q]) || s[q] == '+' || s[q] == '-' || s[q] == '.'))
		q++;
	if (q >= n || s[q] != ':')
		return 0;
	q++;
	while (q < n && ascii_vchar(s[q]) && s[q] != ',' && s[q] != ';')
		q++;
	return q;
}

int tlsrpt_txt(const char *rec, size_t n, const char *uri[TLSRPT_RUA_MAX], size_t uri_len[TLSRPT_RUA_MAX],
               size_t *nuri, size_t *more, const char **why)
{
	size_t p = 10;
	int rua = 0;

	*nuri = *more = 0;
	if (n < 10 || memcmp(rec, "v=TLSRPTv1", 10) != 0 || (n > 10 && !ascii_wsp(rec[10]) && rec[10] != ';'))
		return 0;
	for (;;) {
		size_t name, k;
		p = wsp(rec, n, p);
		if (p == n)
			break;
		if (rec[p] != ';') {
			*why = "a field not after ';'";
			return -1;
		}
		p = wsp(rec, n, p + 1);
		if (p == n)
			break; /* a ';' at the end */
		name = p;
		if (!ascii_alnum(rec[p])) {
			*why = "a bad field name";
			return -1;
		}
		for (p++; p < n && p - name < 32 && (ascii_alnum(rec[p]) || rec[p] == '_' || rec[p] == '-' || rec[p] == '.');)
			p++;
		if (p >= n || rec[p] != '=') {
			*why = "a bad field name";
			return -1;
		}
		if (p - name == 3 && memcmp(rec + name, "rua", 3) == 0) {
			rua = 1;
			p++;
			for (;;) {
				size_t e = uri_end(rec, n, p);
				if (!e) {
					*why = "a bad rua= URI";
					return -1;
				}
				if (*nuri < TLSRPT_RUA_MAX) {
					uri[*nuri] = rec + p;
					uri_len[(*nuri)++] = e - p;
				} else
					++*more;
				k = wsp(rec, n, e);
				if (k == n || rec[k] != ',') {
					p = e;
					break;
				}
				p = wsp(rec, n, k + 1);
			}
			continue;
		}
		/* an extension: ignored (RFC 8460 3), if it parses */
		for (k = ++p; p < n && ascii_vchar(rec[p]) && rec[p] != '=' && rec[p] != ';'; p++)
			;
		if (p == k) {
			*why = "an empty field value";
			return -1;
		}
	}
	if (!rua) {
		*why = "no rua= field";
		return -1;
	}
	return 1;
}

static int atext(int c)
{
	return ascii_alnum(c) || (c && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

int tlsrpt_addr_ok(const char *s, size_t n)
{
	const char *at;
	size_t local, i;

	if (n == 0 || n > TLSRPT_ADDR_MAX || !(at = memchr(s, '@', n)))
		return 0;
	local = (size_t)(at - s);
	if (local == 0 || local > 64 || s[0] == '.' || s[local - 1] == '.')
		return 0;
	for (i = 0; i < local; i++)
		if (!(atext((unsigned char)s[i]) || (s[i] == '.' && s[i + 1] != '.')))
			return 0;
	return tlsrpt_host_ok(at + 1, n - local - 1, 0);
}

static int prefix_nocase(const char *s, size_t n, const char *p)
{
	size_t i, l = strlen(p);
	if (n < l)
		return 0;
	for (i = 0; i < l; i++)
		if (ascii_tolower((unsigned char)s[i]) != p[i])
			return 0;
	return 1;
}

static int hexval(unsigned char c)
{
	if (ascii_digit(c))
		return c - '0';
	c = (unsigned char)ascii_tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int tlsrpt_mailto(const char *uri, size_t n, struct str *addr, int *scheme_https)
{
	const char *q;
	size_t i;

	*scheme_https = 0;
	addr->len = 0;
	if (!prefix_nocase(uri, n, "mailto:")) {
		*scheme_https = prefix_nocase(uri, n, "https:");
		return 0;
	}
	uri += 7;
	n -= 7;
	if ((q = memchr(uri, '?', n)))
		n = (size_t)(q - uri); /* ?subject= and the like: not ours to follow */
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)uri[i];
		if (addr->len >= TLSRPT_ADDR_MAX)
			return -1;
		if (c == '%') {
			int hi, lo;
			if (n - i < 3 || (hi = hexval((unsigned char)uri[i + 1])) < 0 ||
			    (lo = hexval((unsigned char)uri[i + 2])) < 0)
				return -1;
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
		}
		if (!str_catc(addr, (char)c))
			return -2;
	}
	return tlsrpt_addr_ok(addr->s ? addr->s : "", addr->len) ? 1 : -1;
}
