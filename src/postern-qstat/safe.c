#include "qstat.h"

/* Length of a valid UTF-8 sequence at s that is printable (not C1), or 0. */
static size_t utf8_ok(const unsigned char *s, size_t n)
{
	size_t len, i;
	unsigned long cp;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < 0xa0 || (len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

int cat_safe(struct str *out, const char *b, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)b;
	size_t i = 0;

	while (i < n) {
		size_t u;
		if (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '\\') {
			if (!str_catc(out, (char)s[i]))
				return 0;
			i++;
		} else if (s[i] >= 0x80 && (u = utf8_ok(s + i, n - i))) {
			if (!str_catb(out, b + i, u))
				return 0;
			i += u;
		} else {
			char e[4] = { '\\', 'x', hex[s[i] >> 4], hex[s[i] & 15] };
			if (!str_catb(out, e, 4))
				return 0;
			i++;
		}
	}
	return 1;
}
