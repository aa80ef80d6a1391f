#include "fmt.h"
#include "tlsa.h"

/* The digest length of a usable matching type, or 0. */
static size_t digest_len(char mtype)
{
	return mtype == '1' ? 32 : mtype == '2' ? 64 : 0;
}

int tlsa_text_ok(const char *s, size_t n)
{
	size_t i, dl;

	if (n < 3 || (s[0] != '2' && s[0] != '3') || (s[1] != '0' && s[1] != '1'))
		return 0;
	dl = digest_len(s[2]);
	if (!dl || n != 3 + 2 * dl)
		return 0;
	for (i = 3; i < n; i++)
		if (scan_hexdigit(s[i]) < 0)
			return 0;
	return 1;
}

int tlsa_text_from_rdata(struct str *out, const unsigned char *rd, size_t len)
{
	if (len < 3 || (rd[0] != 2 && rd[0] != 3) || rd[1] > 1 || (rd[2] != 1 && rd[2] != 2) ||
	    len != 3 + (rd[2] == 1 ? 32u : 64u))
		return 0;
	if (!str_catc(out, (char)('0' + rd[0])) || !str_catc(out, (char)('0' + rd[1])) ||
	    !str_catc(out, (char)('0' + rd[2])))
		return -1;
	if (!str_cathex(out, rd + 3, len - 3))
		return -1;
	return 1;
}
