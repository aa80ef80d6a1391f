#include "inject.h"

/* postern-inject reads one stream, so one set of flags is enough.
 * held_cr: a CR that ended a chunk of a long line; it may be the first
 * half of a CRLF that the next chunk completes.
 * midline: the last chunk did not end its line, so the next one starts in
 * the middle of a line and is no line of its own (a "." there is text). */
static int held_cr, midline;

int line_get(struct io *in, struct str *line)
{
	int cont = midline, r;

	line->len = 0;
	midline = 0;
	if (held_cr) {
		held_cr = 0;
		if (!str_catc(line, '\r'))
			return -1;
	}
	r = io_getline(in, line, '\n', LINE_CHUNK);
	if (r == -1)
		return -1;
	if (r == 0)
		return line->len ? (cont ? 3 : 1) : 0;
	if (r == -2) {
		if (line->len > 1 && line->s[line->len - 1] == '\r') {
			line->len--;
			held_cr = 1;
		}
		midline = 1;
		return 2;
	}
	if (line->len >= 2 && line->s[line->len - 2] == '\r') {
		line->s[line->len - 2] = '\n';
		line->len--;
	}
	return cont ? 3 : 1;
}

int line_is_dot(const struct str *line)
{
	return line->len == 2 && line->s[0] == '.' && line->s[1] == '\n';
}
