#include "qstat.h"
#include "utf8.h"

int cat_safe(struct str *out, const char *b, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)b;
	size_t i = 0;

	while (i < n) {
		size_t u;
		uint32_t cp;
		if (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '\\') {
			if (!str_catc(out, (char)s[i]))
				return 0;
			i++;
		} else if (s[i] >= 0x80 && (u = utf8_decode(s + i, n - i, &cp)) && cp >= 0xa0) { /* not C1 */
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
