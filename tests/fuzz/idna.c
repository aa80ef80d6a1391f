/* libFuzzer target for idna_to_ascii (src/lib/idna.c), which turns a
 * domain from an envelope into the name DNS is asked for.  Besides the
 * sanitizers' checks it asserts what its callers rely on: a name taken
 * comes out as ASCII alone, in as many labels as it went in, each of 1 to
 * 63 bytes and the whole at most 253; a label that held UTF-8 comes out
 * as "xn--" and lowercase letters, digits and hyphens; an ASCII label
 * comes out as it went in. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "idna.h"
#include "utf8.h"

/* the bytes from p to the next dot or to end */
static size_t label_len(const char *p, const char *end)
{
	const char *dot = memchr(p, '.', (size_t)(end - p));

	return (size_t)((dot ? dot : end) - p);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct str out = STR_INIT;
	const char *in = (const char *)d, *p, *q;
	int r = idna_to_ascii(in, n, &out);

	if (r != IDNA_OK && r != IDNA_BAD)
		abort();
	if (r == IDNA_OK) {
		size_t i, labels_in = 1, labels_out = 1;
		if (out.len == 0 || out.len > 253)
			abort();
		for (i = 0; i < out.len; i++) {
			if ((unsigned char)out.s[i] >= 0x80)
				abort();
			labels_out += out.s[i] == '.';
		}
		for (i = 0; i < n; i++)
			labels_in += in[i] == '.';
		if (labels_in != labels_out)
			abort();
		for (p = in, q = out.s; p <= in + n && q <= out.s + out.len;) {
			size_t pl = label_len(p, in + n), ql = label_len(q, out.s + out.len);
			if (ql == 0 || ql > 63)
				abort();
			if (utf8_has_high(p, pl)) {
				if (ql < 5 || memcmp(q, "xn--", 4) != 0)
					abort();
				for (i = 4; i < ql; i++)
					if (!((q[i] >= 'a' && q[i] <= 'z') || (q[i] >= '0' && q[i] <= '9') || q[i] == '-'))
						abort();
			} else if (pl != ql || memcmp(p, q, pl) != 0) {
				abort();
			}
			p += pl + 1;
			q += ql + 1;
		}
	}
	str_free(&out);
	return 0;
}
