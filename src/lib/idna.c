#include <stdint.h>
#include "idna.h"
#include "utf8.h"

#define LABEL_MAX 63
#define NAME_MAX_DNS 253
/* RFC 3492 5: Punycode's parameters for IDNA */
#define BASE 36
#define TMIN 1
#define TMAX 26
#define SKEW 38
#define DAMP 700
#define INITIAL_BIAS 72
#define INITIAL_N 128

static char digit(uint32_t d) { return (char)(d < 26 ? 'a' + d : '0' + (d - 26)); }

static uint32_t adapt(uint32_t delta, uint32_t points, int first)
{
	uint32_t k = 0;

	delta = first ? delta / DAMP : delta / 2;
	delta += delta / points;
	while (delta > ((BASE - TMIN) * TMAX) / 2) {
		delta /= BASE - TMIN;
		k += BASE;
	}
	return k + (BASE - TMIN + 1) * delta / (delta + SKEW);
}

/* RFC 3492 6.3, for the code points of one label (at most LABEL_MAX of
 * them: the encoding of more could not fit a label).  Appends to out. */
static int punycode(const uint32_t *cp, size_t count, struct str *out)
{
	uint32_t n = INITIAL_N, bias = INITIAL_BIAS, delta = 0, h, b = 0;
	size_t i;

	for (i = 0; i < count; i++)
		if (cp[i] < 0x80) {
			if (!str_catc(out, (char)cp[i]))
				return IDNA_NOMEM;
			b++;
		}
	if (b && !str_catc(out, '-'))
		return IDNA_NOMEM;
	for (h = b; h < count;) {
		uint32_t m = UINT32_MAX;
		for (i = 0; i < count; i++)
			if (cp[i] >= n && cp[i] < m)
				m = cp[i];
		/* count is at most 63 and m at most 0x10ffff: delta stays far below 2^32 */
		delta += (m - n) * (h + 1);
		n = m;
		for (i = 0; i < count; i++) {
			if (cp[i] < n)
				delta++;
			if (cp[i] == n) {
				uint32_t q = delta, k;
				for (k = BASE;; k += BASE) {
					uint32_t t = k <= bias ? TMIN : k >= bias + TMAX ? TMAX : k - bias;
					if (q < t)
						break;
					if (!str_catc(out, digit(t + (q - t) % (BASE - t))))
						return IDNA_NOMEM;
					q = (q - t) / (BASE - t);
				}
				if (!str_catc(out, digit(q)))
					return IDNA_NOMEM;
				bias = adapt(delta, h + 1, h == b);
				delta = 0;
				h++;
			}
		}
		delta++;
		n++;
	}
	return IDNA_OK;
}

/* One label of UTF-8 as "xn--" and its Punycode. */
static int a_label(const char *label, size_t n, struct str *out)
{
	uint32_t cp[LABEL_MAX + 1];
	size_t count = 0, at = 0, start = out->len;
	int r;

	/* RFC 5891 4.2.3.1: no hyphen first or last (a byte is a character
	 * there), and below none in both the third and fourth characters
	 * (those are for "xn--" and its like) */
	if (label[0] == '-' || label[n - 1] == '-')
		return IDNA_BAD;
	while (at < n) {
		uint32_t c;
		size_t len = utf8_decode((const unsigned char *)label + at, n - at, &c);
		if (len == 0)
			return IDNA_BAD;
		at += len;
		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		/* the ASCII in a U-label is letters, digits and hyphens (RFC 5891
		 * 4.2.3.1's LDH rule, which the Punycode would carry into the
		 * A-label as it is); and no C1 control is a letter of any script */
		if (c < 0x80 ? !((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-') : c <= 0x9f)
			return IDNA_BAD;
		if (count == LABEL_MAX)
			return IDNA_BAD;
		cp[count++] = c;
	}
	if (count >= 4 && cp[2] == '-' && cp[3] == '-')
		return IDNA_BAD;
	if (!str_catb(out, "xn--", 4))
		return IDNA_NOMEM;
	r = punycode(cp, count, out);
	if (r != IDNA_OK)
		return r;
	return out->len - start > LABEL_MAX ? IDNA_BAD : IDNA_OK;
}

int idna_to_ascii(const char *name, size_t n, struct str *out)
{
	size_t i = 0;

	out->len = 0;
	if (n == 0)
		return IDNA_BAD;
	while (i <= n) {
		size_t j = i;
		int r;
		while (j < n && name[j] != '.')
			j++;
		if (j == i)
			return IDNA_BAD; /* an empty label: a leading, trailing or doubled dot */
		if (i && !str_catc(out, '.'))
			return IDNA_NOMEM;
		if (utf8_has_high(name + i, j - i)) {
			if ((r = a_label(name + i, j - i, out)) != IDNA_OK)
				return r;
		} else if (j - i > LABEL_MAX) {
			return IDNA_BAD;
		} else if (!str_catb(out, name + i, j - i)) {
			return IDNA_NOMEM;
		}
		i = j + 1;
	}
	return out->len > NAME_MAX_DNS ? IDNA_BAD : IDNA_OK;
}
