/* libFuzzer target for postern-local's pure rules (src/postern-local/
 * dotfile.c): a recipient's .postern file (dotfile_parse), the header scan
 * for mail loops (header_scan, over a message from anyone), and the names
 * an address extension may become (ext_check, dotfile_candidates).  The
 * first byte picks the rule.  Besides the sanitizers' checks it asserts
 * what delivery relies on: entries lie inside the file and agree with
 * their line's first byte, a hop count no larger than the lines scanned,
 * and file names that stay in the home directory.
 * Built and run by tests/fuzz.sh. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "postern-local/dotfile.h"

static void parse(const char *b, size_t n)
{
	struct dotfile d;
	size_t errline, i, lines = 1;
	enum dot_error r = dotfile_parse(&d, b, n, &errline);

	for (i = 0; i < n; i++)
		lines += b[i] == '\n';
	if (r == DOT_OK && errline != 0)
		abort();
	if (r != DOT_OK && (errline == 0 || errline > lines || !dot_error_text(r)))
		abort();
	for (i = 0; r == DOT_OK && i < d.n; i++) {
		const struct dot_entry *e = &d.e[i];
		if (e->s < b || e->s + e->len > b + n || e->len == 0 || memchr(e->s, 0, e->len) ||
		    memchr(e->s, '\n', e->len) || e->line == 0 || e->line > lines)
			abort();
		if (e->kind == DOT_MAILDIR && ((e->s[0] != '.' && e->s[0] != '/') || e->s[e->len - 1] != '/'))
			abort();
		if (e->kind == DOT_PROGRAM && e->s[-1] != '|')
			abort();
	}
	dotfile_free(&d);
}

static void scan(const char *b, size_t n)
{
	static const char rcpt[] = "user@example.org";
	size_t hops, i, lines = 0;

	(void)header_scan(b, n, rcpt, sizeof rcpt - 1, &hops);
	for (i = 0; i < n; i++)
		lines += b[i] == '\n';
	if (hops > lines)
		abort();
}

static void names(const char *b, size_t n)
{
	struct str out = STR_INIT;
	const char *p;
	size_t pairs = 0;

	if (!ext_check(b, n))
		return;
	if (!dotfile_candidates(&out, b, n))
		abort();
	/* "name\0rest\0" pairs, each name one path component in the home */
	for (p = out.s; p < out.s + out.len; p += strlen(p) + 1) {
		size_t l = strlen(p);
		if (l < 9 || memcmp(p, ".postern-", 9) != 0 || memchr(p, '/', l) || l > 255)
			abort();
		p += l + 1;
		if (p > out.s + out.len)
			abort();
		pairs++;
	}
	if (pairs < 2)
		abort(); /* the extension itself and .postern-default at least */
	str_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *b = (const char *)data + 1;

	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0: parse(b, size - 1); break;
	case 1: scan(b, size - 1); break;
	default: names(b, size - 1); break;
	}
	return 0;
}
