/* libFuzzer target for what POP3's programs parse from a client or pass
 * between them: postern-pop3d's command lines (src/postern-pop3d/
 * command.c), the AUTH PLAIN decoder (src/lib/base64.c) and login names
 * (src/lib/loginname.c).  The first byte picks one; the rest is its
 * input.  Besides the sanitizers' checks it asserts what the programs
 * rely on: a parsed command has the arguments its keyword takes, one per
 * blank-separated word, from a line without control bytes; a decoded
 * text is canonical (encoding it again gives the input back) and fits;
 * an accepted name matches a plain re-reading of doc/pop3.md's rules, so
 * that no name with a /, a leading dot or an empty label reaches a path.
 * Built and run by tests/fuzz.sh. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "base64.h"
#include "loginname.h"
#include "postern-pop3d/command.h"

static void command(const char *s, size_t n)
{
	struct command c;
	size_t i, blanks = 0;

	if (command_parse(s, n, &c) != CMD_OK)
		return;
	for (i = 0; i < n; i++) {
		if ((unsigned char)s[i] < 0x21 && s[i] != ' ')
			abort(); /* a control byte in a command taken */
		if (s[i] == ' ')
			blanks++;
	}
	if (c.nargs > 2 || c.nargs != blanks || (unsigned)c.verb > V_CAPA)
		abort();
	if ((c.verb == V_TOP && c.nargs != 2) || ((c.verb == V_RETR || c.verb == V_DELE) && c.nargs != 1))
		abort();
}

static void decode(const char *s, size_t n)
{
	unsigned char out[1024];
	char again[2048];
	size_t len, el;

	if (b64_decode(s, n, out, sizeof out, &len) == -1)
		return;
	if (len > sizeof out || len != n / 4 * 3 - (n && s[n - 1] == '=') - (n > 1 && s[n - 2] == '='))
		abort();
	el = b64_encode(out, len, again, sizeof again);
	if (el != n || memcmp(again, s, n))
		abort(); /* two texts for one decoding: not canonical */
}

static int in(char c, const char *set) { return c && strchr(set, c) != 0; }

static void name(const char *s, size_t n)
{
	size_t at = (size_t)-1, i;
	int k = login_name(s, n, &at);
	const char *unix_set = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-";
	const char *local_set = "abcdefghijklmnopqrstuvwxyz0123456789._+-";
	const char *domain_set = "abcdefghijklmnopqrstuvwxyz0123456789.-";

	if (k == 0)
		return;
	if (n == 0 || n > LOGINNAME_MAX || memchr(s, '/', n) || memchr(s, 0, n))
		abort();
	if (k == 1) {
		if (n > 64 || s[0] == '.' || s[0] == '-' || memchr(s, '@', n))
			abort();
		for (i = 0; i < n; i++)
			if (!in(s[i], unix_set))
				abort();
		return;
	}
	if (k != 2 || at == 0 || at >= n - 1 || at > 64 || s[at] != '@' || s[0] == '.' || memchr(s + at + 1, '@', n - at - 1))
		abort();
	for (i = 0; i < at; i++)
		if (!in(s[i], local_set))
			abort();
	for (i = at + 1; i < n; i++) {
		if (!in(s[i], domain_set))
			abort();
		if (s[i] == '.' && (i == at + 1 || s[i - 1] == '.' || i == n - 1))
			abort(); /* an empty label */
		if (s[i] == '-' && (i == at + 1 || s[i - 1] == '.'))
			abort(); /* a label starting with - */
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data + 1;

	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0: command(s, size - 1); break;
	case 1: decode(s, size - 1); break;
	default: name(s, size - 1); break;
	}
	return 0;
}
