#include <string.h>
#include "pem.h"
#include "ascii.h"
#include "base64.h"
#include "die.h"

#define BEGIN "-----BEGIN "
#define END "-----END "
#define DASHES "-----"

static int stop(struct str *why, const char *a, const char *name, const char *b)
{
	if (!str_copys(why, a) || !str_cats(why, name) || !str_cats(why, b))
		die_nomem();
	return -1;
}

static int starts(const char *s, size_t n, const char *prefix)
{
	size_t l = strlen(prefix);
	return n >= l && memcmp(s, prefix, l) == 0;
}

/* "-----BEGIN LABEL-----" or "-----END LABEL-----": the label's length,
 * or -1.  A label is printable ASCII (RFC 7468 section 3); its first and
 * last characters are not blanks or hyphens, so "-----BEGIN X------" is
 * no BEGIN line of X. */
static long label_of(const char *line, size_t n, const char *kind, const char **label)
{
	size_t k = strlen(kind), l, i;

	if (!starts(line, n, kind) || n < k + 5 + 1 || memcmp(line + n - 5, DASHES, 5) != 0)
		return -1;
	*label = line + k;
	l = n - k - 5;
	if (l > PEM_LABEL_MAX)
		return -1;
	for (i = 0; i < l; i++)
		if ((unsigned char)(*label)[i] < 0x20 || (unsigned char)(*label)[i] > 0x7e)
			return -1;
	if ((*label)[0] == ' ' || (*label)[0] == '-' || (*label)[l - 1] == ' ' || (*label)[l - 1] == '-')
		return -1;
	return (long)l;
}

int pem_walk(const struct str *text, struct str *der, pem_each *each, void *ctx, struct str *why)
{
	const char *s = text->s ? text->s : "";
	size_t len = text->len, pos = 0;
	char name[PEM_LABEL_MAX + 1] = "";
	/* the base64 being decoded, four characters at a time: a key's
	 * bytes pass through these, wiped at the end */
	char quad[4];
	unsigned char three[3];
	size_t nquad = 0;
	int inside = 0, padded = 0, r = 0;

	while (pos < len && r == 0) {
		const char *line = s + pos, *nl = memchr(line, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - line) : len - pos;
		const char *label;
		long l;

		pos += n + (nl != 0);
		while (n && ascii_wsp_cr(line[n - 1]))
			n--;
		if (!inside) {
			if ((l = label_of(line, n, BEGIN, &label)) < 0)
				continue; /* explanatory text */
			memcpy(name, label, (size_t)l);
			name[l] = 0;
			/* every object after this one fits where its text was:
			 * 3 bytes for each 4 characters */
			if (!str_ready(der, (len - pos) / 4 * 3 + 3))
				die_nomem();
			der->len = 0;
			nquad = 0;
			padded = 0;
			inside = 1;
		} else if (starts(line, n, DASHES)) {
			if ((l = label_of(line, n, END, &label)) < 0)
				r = stop(why, "the PEM object ", name, " has no END line");
			else if ((size_t)l != strlen(name) || memcmp(label, name, (size_t)l) != 0)
				r = stop(why, "the PEM object ", name, " ends with another label");
			else if (nquad)
				r = stop(why, "the PEM object ", name, " is not valid base64");
			else {
				const char *reason;
				der->s[der->len] = 0;
				inside = 0;
				if ((reason = each(ctx, name, der)) != 0)
					r = stop(why, reason, "", "");
			}
		} else {
			size_t i;
			for (i = 0; i < n && r == 0; i++) {
				size_t got;
				if (ascii_wsp_cr(line[i]))
					continue;
				quad[nquad++] = line[i];
				if (nquad < 4)
					continue;
				nquad = 0;
				/* a pad ends the base64: nothing may follow it */
				if (padded || b64_decode(quad, 4, three, sizeof three, &got) == -1) {
					r = stop(why, "the PEM object ", name, " is not valid base64");
					break;
				}
				padded = got < 3;
				memcpy(der->s + der->len, three, got);
				der->len += got;
			}
		}
	}
	explicit_bzero(quad, sizeof quad);
	explicit_bzero(three, sizeof three);
	if (r == 0 && inside)
		r = stop(why, "the PEM object ", name, " has no END line");
	return r;
}
