#include <string.h>
#include "copy.h"

#define CHUNK 65536

struct walk {
	struct io *out;
	unsigned long long octets;
	unsigned long long body_left;
	size_t linelen;  /* bytes of the current line so far, without its LF */
	int at_start;    /* the next byte starts a line */
	int prev_cr;     /* the current line's last byte so far is CR */
	int in_body;     /* the blank line after the header is behind us */
};

static int put(struct walk *w, const char *b, size_t n)
{
	w->octets += n;
	return w->out ? io_put(w->out, b, n) : 0;
}

/* The end of a line: CRLF, or only the LF when the line ended in CR. */
static int end_line(struct walk *w)
{
	int blank = w->linelen == 0 || (w->linelen == 1 && w->prev_cr);

	if ((w->prev_cr ? put(w, "\n", 1) : put(w, "\r\n", 2)) == -1)
		return -1;
	if (w->in_body)
		w->body_left--;
	else if (blank)
		w->in_body = 1;
	w->at_start = 1;
	return 0;
}

/* The lines of one chunk.  1: TOP has all it wants; 0: go on; -1: write error. */
static int walk_chunk(struct walk *w, const char *p, const char *end)
{
	while (p < end) {
		const char *nl, *stop;
		if (w->at_start) {
			if (w->in_body && w->body_left == 0)
				return 1;
			/* the stuffed dot is not the message's: not counted */
			if (*p == '.' && w->out && io_put(w->out, ".", 1) == -1)
				return -1;
			w->at_start = 0;
			w->linelen = 0;
			w->prev_cr = 0;
		}
		nl = memchr(p, '\n', (size_t)(end - p));
		stop = nl ? nl : end;
		if (stop > p) {
			if (put(w, p, (size_t)(stop - p)) == -1)
				return -1;
			w->linelen += (size_t)(stop - p);
			w->prev_cr = stop[-1] == '\r';
		}
		if (!nl)
			break;
		if (end_line(w) == -1)
			return -1;
		p = nl + 1;
	}
	return 0;
}

int copy_message(int fd, struct io *out, unsigned long long body_lines, unsigned long long *octets)
{
	static char buf[CHUNK];
	struct walk w = { out, 0, body_lines, 0, 1, 0, 0 };
	int r = 0;

	for (;;) {
		ssize_t n = read_retry(fd, buf, sizeof buf);
		if (n == -1)
			return -1;
		if (n == 0)
			break;
		r = walk_chunk(&w, buf, buf + n);
		if (r == -1)
			return -2;
		if (r == 1)
			break;
	}
	/* a last line without its LF still ends in CRLF on the wire */
	if (r == 0 && !w.at_start && end_line(&w) == -1)
		return -2;
	*octets = w.octets;
	return 0;
}
