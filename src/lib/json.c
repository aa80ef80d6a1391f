/* JSON strings (RFC 8259 7) for reports built from hostile bytes: see
 * tlsrpt.h. */
#include "tlsrpt.h"
#include "fmt.h"

int json_cat_string(struct str *out, const char *s, size_t n)
{
	size_t i;

	if (!str_readyplus(out, n + 2) || !str_catc(out, '"'))
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			if (!str_catc(out, '\\') || !str_catc(out, (char)c))
				return 0;
		} else if (c < 0x20 || c >= 0x7f) {
			char u[6] = { '\\', 'u', '0', '0', 0, 0 };
			fmt_hexbyte(u + 4, c);
			if (!str_catb(out, u, 6))
				return 0;
		} else if (!str_catc(out, (char)c))
			return 0;
	}
	return str_catc(out, '"');
}
