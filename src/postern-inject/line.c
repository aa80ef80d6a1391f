#include "inject.h"

int line_get(struct io *in, struct str *line)
{
	int r;

	line->len = 0;
	r = io_getline(in, line, '\n', LINE_CHUNK);
	if (r == -1)
		return -1;
	if (r == 0)
		return line->len ? 1 : 0;
	if (r == -2) {
		/* A CR at the end of a chunk may be the first half of a CRLF:
		 * give it back to the buffer it was just taken from, so the next
		 * chunk sees the pair whole. */
		if (line->len > 1 && line->s[line->len - 1] == '\r') {
			line->len--;
			in->pos--;
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
