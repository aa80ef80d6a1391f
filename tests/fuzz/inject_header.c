/* libFuzzer target for sendmail's reading of the header section
 * (src/postern-inject/header.c and line.c, header_read): any bytes a local
 * user or a program feeding sendmail writes before the body.  The first
 * byte picks -t and -i; the rest arrives through a pipe, as sendmail's
 * stdin would.  Besides the sanitizers' checks it asserts what matters
 * most: no field that header.c must drop (Bcc, Resent-Bcc, Return-Path,
 * whatever the case and the blanks before the colon) is in what it keeps;
 * what it keeps is whole lines, no longer than the input; the -t
 * recipients are non-empty NUL-terminated strings.  Inputs holding a NUL
 * are passed over: a NUL in a To, Cc or Bcc field is refused with exit 100,
 * which libFuzzer would take for a crash.
 * Built and run by tests/fuzz.sh. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "postern-inject/inject.h"

/* The field starting at s (a line not starting with a blank): is its
 * name, blanks before the colon aside, one header.c must drop? */
static int dropped_name(const char *s, size_t n)
{
	static const char *const names[] = { "bcc", "resent-bcc", "return-path" };
	const char *colon = memchr(s, ':', n);
	size_t k, i;

	if (!colon)
		return 0;
	k = (size_t)(colon - s);
	while (k && (s[k - 1] == ' ' || s[k - 1] == '\t'))
		k--;
	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		if (k == strlen(names[i]) && strncasecmp(s, names[i], k) == 0)
			return 1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct opts o = { 0, 0, 0, 0, "mx.example.com" };
	struct header_seen seen = { 0, 0, 0, 0 };
	struct str out = STR_INIT, rcpts = STR_INIT, body = STR_INIT;
	static char buf[8192];
	struct io in;
	int p[2], eof;
	size_t at;

	if (size < 1 || size > 60000 || memchr(data, 0, size))
		return 0;
	o.tflag = data[0] & 1;
	o.dotstop = (data[0] >> 1) & 1;
	if (pipe(p) == -1)
		abort();
	if (size > 1 && write(p[1], data + 1, size - 1) != (ssize_t)(size - 1))
		abort();
	close(p[1]);
	io_init(&in, p[0], buf, sizeof buf);
	header_read(&in, &o, &out, &rcpts, &seen, &body, &eof);
	close(p[0]);

	if (out.len > size || (out.len && out.s[out.len - 1] != '\n'))
		abort();
	for (at = 0; at < out.len;) {
		const char *nl = memchr(out.s + at, '\n', out.len - at);
		size_t n = (size_t)(nl - (out.s + at));
		if (out.s[at] != ' ' && out.s[at] != '\t' && dropped_name(out.s + at, n))
			abort(); /* a blind copy or a Return-Path kept */
		at += n + 1;
	}
	if (rcpts.len && rcpts.s[rcpts.len - 1] != 0)
		abort();
	for (at = 0; at < rcpts.len;) {
		size_t n = strlen(rcpts.s + at);
		if (n == 0)
			abort();
		at += n + 1;
	}
	str_free(&out);
	str_free(&rcpts);
	str_free(&body);
	return 0;
}
