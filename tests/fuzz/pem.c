/* libFuzzer target for PEM (src/lib/pem.c), which reads key files and the
 * CA bundle of control/tlscafile.  The input is the text.  Checked: the
 * walk ends, every object's label is 1 to PEM_LABEL_MAX printable
 * characters, its bytes at most three quarters of the text; and against
 * BearSSL's own PEM decoder (what postern used before, kept here as the
 * model): whatever pem_walk reads whole, BearSSL reads as the same
 * objects, labels and bytes, when the text is one they should agree on
 * (comparable(), below) (pem_walk may refuse what BearSSL takes: an
 * END line with another label, base64 with bits left under a pad; and
 * BearSSL's label of a BEGIN line with a CR or blanks after its dashes
 * keeps the dashes and, from a CR on, bytes of the label before it,
 * which is why postern refused CRLF files before).
 * Built and run by tests/fuzz.sh, linked with -lbearssl. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bearssl.h>
#include "pem.h"

#define OBJECTS_MAX 64

struct seen {
	size_t n;
	int overflow;
	char name[OBJECTS_MAX][PEM_LABEL_MAX + 1];
	struct str der[OBJECTS_MAX];
};
static struct seen ours, model;
static size_t textlen;

static void keep(struct seen *s, const char *name, const char *b, size_t n)
{
	if (s->n == OBJECTS_MAX) {
		s->overflow = 1;
		return;
	}
	snprintf(s->name[s->n], sizeof s->name[0], "%s", name);
	if (!str_copyb(&s->der[s->n], b, n))
		abort();
	s->n++;
}

static const char *each(void *ctx, const char *name, const struct str *der)
{
	size_t l = strlen(name), i;

	(void)ctx;
	if (l == 0 || l > PEM_LABEL_MAX)
		abort();
	for (i = 0; i < l; i++)
		if ((unsigned char)name[i] < 0x20 || (unsigned char)name[i] > 0x7e)
			abort();
	if (der->len > textlen / 4 * 3)
		abort();
	keep(&ours, name, der->s, der->len);
	return 0;
}

static void append(void *dest, const void *b, size_t n)
{
	if (!str_catb(dest, b, n))
		abort();
}

/* BearSSL's walk, as src/tls/pem.c had it: 0 or -1 */
static int bearssl_walk(const uint8_t *p, size_t len)
{
	br_pem_decoder_context pc;
	struct str cur = STR_INIT;
	char name[sizeof pc.name];
	int inside = 0, tail = 0, r = 0;

	br_pem_decoder_init(&pc);
	for (;;) {
		size_t n = br_pem_decoder_push(&pc, p, len);
		p += n;
		len -= n;
		switch (br_pem_decoder_event(&pc)) {
		case BR_PEM_BEGIN_OBJ:
			memcpy(name, br_pem_decoder_name(&pc), sizeof name);
			name[sizeof name - 1] = 0;
			cur.len = 0;
			br_pem_decoder_setdest(&pc, append, &cur);
			inside = 1;
			break;
		case BR_PEM_END_OBJ:
			inside = 0;
			keep(&model, name, cur.s ? cur.s : "", cur.len);
			break;
		case BR_PEM_ERROR:
			r = -1;
			goto out;
		}
		if (len == 0) {
			if (tail)
				break;
			tail = 1;
			p = (const uint8_t *)"\n";
			len = 1;
		}
	}
	if (inside)
		r = -1;
out:
	str_free(&cur);
	return r;
}

/* 1 when the text is one both readers should agree on: printable ASCII,
 * blanks and line ends only (a CR only before an LF), and every line
 * that starts with dashes a BEGIN or END line, nothing after its
 * dashes, whose label is 1 to 127
 * printable characters not starting or ending with a blank or a dash,
 * nor holding five dashes (BearSSL ends a label at the first five: for
 * it, what follows is text after the line's dashes), every other line whole groups of four characters.  Elsewhere they
 * differ by design: BearSSL refuses base64 whose group of four is split
 * by a line end (RFC 7468 lets it be), takes a label with control
 * characters, stops one at a NUL and begins an object at a line that
 * pem_walk reads as text. */
static int comparable(const uint8_t *d, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t start = i, end, k, l, j;
		while (i < n && d[i] != '\n') {
			if ((d[i] < 0x20 && d[i] != '\t' && d[i] != '\r') || d[i] > 0x7e)
				return 0;
			if (d[i] == '\r' && (i + 1 == n || d[i + 1] != '\n'))
				return 0;
			i++;
		}
		end = i++;
		while (end > start && (d[end - 1] == ' ' || d[end - 1] == '\t' || d[end - 1] == '\r'))
			end--;
		if (end - start >= 5 && memcmp(d + start, "-----", 5) == 0 && end != i - 1)
			return 0; /* blanks or a CR after a BEGIN or END line */
		if (end - start < 5 || memcmp(d + start, "-----", 5) != 0) {
			/* BearSSL refuses a group of four split by a line end */
			size_t chars = 0;
			for (k = start; k < end; k++)
				chars += d[k] != ' ' && d[k] != '\t' && d[k] != '\r';
			if (chars % 4)
				return 0;
			continue;
		}
		if (end - start > 11 && !memcmp(d + start, "-----BEGIN ", 11))
			k = start + 11;
		else if (end - start > 9 && !memcmp(d + start, "-----END ", 9))
			k = start + 9;
		else
			return 0;
		if (end - k < 6 || memcmp(d + end - 5, "-----", 5) != 0)
			return 0;
		l = end - 5 - k;
		for (j = k; j < k + l; j++)
			if (d[j] < 0x20)
				return 0;
		if (l > PEM_LABEL_MAX || d[k] == ' ' || d[k] == '-' || d[k + l - 1] == ' ' || d[k + l - 1] == '-')
			return 0;
		if (memmem(d + k, l, "-----", 5))
			return 0;
	}
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct str text = STR_INIT, der = STR_INIT, why = STR_INIT;
	size_t i;
	int r;

	ours.n = model.n = 0;
	ours.overflow = model.overflow = 0;
	textlen = size;
	if (!str_copyb(&text, (const char *)data, size))
		abort();
	r = pem_walk(&text, &der, each, 0, &why);
	if (r == -1 && (!why.s || !why.len))
		abort();
	if (r == 0 && !ours.overflow && comparable(data, size)) {
		if (bearssl_walk(data, size) != 0 || model.overflow || model.n != ours.n)
			abort();
		for (i = 0; i < ours.n; i++)
			if (strcmp(ours.name[i], model.name[i]) != 0 || ours.der[i].len != model.der[i].len ||
			    memcmp(ours.der[i].s, model.der[i].s, ours.der[i].len) != 0)
				abort();
	}
	str_free(&text);
	str_free(&der);
	str_free(&why);
	return 0;
}
