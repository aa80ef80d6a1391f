/* libFuzzer target for the Authentication-Results filter of
 * src/lib/authres.c, through which postern-smtpd streams every message
 * that postern-dkimverify does not read.  The input: a byte of the
 * piece size, then the message (LF line ends, any bytes).  Checked
 * against a model that cuts the whole message into fields first, as
 * postern-dkimverify's header_rewrite does: the filter's output, fed in
 * pieces of that size, is the model's, and the count of fields taken
 * out is the model's; the body is never touched.  Inputs are shorter
 * than AUTHRES_HOLD_MAX, below which the filter judges every field
 * whole.  Built and run by tests/fuzz.sh. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "authres.h"

static const char id[] = "mx.example.com";
static struct str got, want;

static void put(const char *b, size_t n)
{
	if (!str_catb(&got, b, n))
		abort();
}

/* The model: the leading continuation lines pass; each field (a line
 * that begins with no blank, and the lines after it that do) goes when
 * authres_is_ours says so; from the blank line on everything passes. */
static unsigned long model(const char *m, size_t n)
{
	size_t pos = 0;
	unsigned long removed = 0;

	want.len = 0;
	while (pos < n && m[pos] != '\n') {
		size_t end = pos, len;
		do {
			const char *nl = memchr(m + end, '\n', n - end);
			end = nl ? (size_t)(nl - m) + 1 : n;
		} while (end < n && (m[end] == ' ' || m[end] == '\t'));
		len = end - pos;
		if (len && m[end - 1] == '\n')
			len--;
		if (authres_is_ours(m + pos, len, id)) /* never a group of continuations */
			removed++;
		else if (!str_catb(&want, m + pos, end - pos))
			abort();
		pos = end;
	}
	if (!str_catb(&want, m + pos, n - pos))
		abort();
	return removed;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct authres_strip a;
	const char *m = (const char *)data + 1;
	size_t n, step, i;
	unsigned long removed;

	if (size < 1 || size - 1 >= AUTHRES_HOLD_MAX)
		return 0;
	n = size - 1;
	step = data[0] ? data[0] : n + 1;
	removed = model(m, n);
	got.len = 0;
	authres_strip_init(&a, id, put);
	for (i = 0; i < n; i += step)
		if (!authres_strip_feed(&a, m + i, n - i < step ? n - i : step))
			abort();
	authres_strip_flush(&a);
	if (got.len != want.len || (got.len && memcmp(got.s, want.s, got.len) != 0) || a.removed != removed)
		abort();
	return 0;
}
