#include "qstat.h"
#include "fmt.h"
#include "utf8.h"

int cat_safe(struct str *out, const char *b, size_t n)
{
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
			char e[4] = { '\\', 'x' };
			(void)fmt_hexbyte(e + 2, s[i]);
			if (!str_catb(out, e, 4))
				return 0;
			i++;
		}
	}
	return 1;
}
