/* SMTP replies from a server that may be hostile (OpenSMTPD's
 * CVE-2020-8794 came from trusting one): each line is at most
 * REPLY_LINE_MAX bytes, a reply at most REPLY_LINES_MAX lines, every line
 * starts with the same three digits.  Anything else ends the session;
 * memory stays bounded whatever the server sends. */
#include <errno.h>
#include <string.h>
#include "remote.h"
#include "ascii.h"

int reply_read(struct io *in, struct reply *r)
{
	struct str line = STR_INIT;
	size_t nlines = 0;
	int ok = -1;

	r->code = 0;
	r->text.len = 0;
	r->err = "no reply";
	if (!str_ready(&r->text, 0)) {
		r->err = "out of memory";
		return -1;
	}
	for (;;) {
		size_t n;
		unsigned code;
		int g;

		line.len = 0;
		g = io_getline(in, &line, '\n', REPLY_LINE_MAX);
		if (g == -2) {
			r->err = "reply line too long";
			goto out;
		}
		if (g == 0) {
			r->err = "connection closed";
			goto out;
		}
		if (g < 0) {
			r->err = errno == ETIMEDOUT ? "timed out waiting for a reply" : "read error";
			goto out;
		}
		n = line.len - 1;
		if (n && line.s[n - 1] == '\r')
			n--;
		if (n < 3 || !ascii_digit(line.s[0]) || !ascii_digit(line.s[1]) || !ascii_digit(line.s[2]) ||
		    (n > 3 && line.s[3] != ' ' && line.s[3] != '-') || line.s[0] < '2' || line.s[0] > '5') {
			r->err = "malformed reply";
			goto out;
		}
		code = (unsigned)((line.s[0] - '0') * 100 + (line.s[1] - '0') * 10 + (line.s[2] - '0'));
		if (nlines && code != r->code) {
			r->err = "reply lines with different codes";
			goto out;
		}
		r->code = code;
		if (++nlines > REPLY_LINES_MAX) {
			r->err = "reply with too many lines";
			goto out;
		}
		if ((nlines > 1 && !str_catc(&r->text, '\n')) ||
		    (n > 4 && !str_catb(&r->text, line.s + 4, n - 4))) {
			r->err = "out of memory";
			goto out;
		}
		if (n == 3 || line.s[3] == ' ')
			break;
	}
	ok = 0;
out:
	if (ok)
		r->code = 0;
	str_free(&line);
	return ok;
}

void reply_quote(const struct reply *r, struct str *out, size_t max)
{
	size_t i, start = out->len;
	char code[4];

	code[0] = (char)('0' + r->code / 100);
	code[1] = (char)('0' + r->code / 10 % 10);
	code[2] = (char)('0' + r->code % 10);
	code[3] = ' ';
	if (!str_catb(out, code, 4))
		return;
	for (i = 0; i < r->text.len && out->len - start < max; i++) {
		unsigned char c = (unsigned char)r->text.s[i];
		if (c == '\n')
			c = '/';
		else if (c < 0x20 || c >= 0x7f)
			c = '?';
		if (!str_catc(out, (char)c))
			return;
	}
}
