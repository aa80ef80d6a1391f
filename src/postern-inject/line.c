#include "inject.h"

/* A CR that ended a chunk of a long line: it may be the first half of a
 * CRLF that the next chunk completes.  postern-inject reads one stream, so
 * one flag is enough. */
static int held_cr;

int line_get(struct io *in, struct str *line)
{
	int r;

	line->len = 0;
	if (held_cr) {
		held_cr = 0;
		if (!str_catc(line, '\r'))
			return -1;
	}
	r = io_getline(in, line, '\n', LINE_CHUNK);
	if (r == -1)
		return -1;
	if (r == 0)
		return line->len ? 1 : 0;
	if (r == -2) {
		if (line->len > 1 && line->s[line->len - 1] == '\r') {
			line->len--;
			held_cr = 1;
		}
		return 2;
	}
	if (line->len >= 2 && line->s[line->len - 2] == '\r') {
		line->s[line->len - 2] = '\n';
		line->len--;
	}
	return 1;
}

int line_is_dot(const struct str *line)
{
	return line->len == 2 && line->s[0] == '.' && line->s[1] == '\n';
}
