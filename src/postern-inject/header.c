#include <string.h>
#include "inject.h"
#include "die.h"

/* "Name:" with a name of printable ASCII other than ':' */
static size_t field_name(const struct str *l)
{
	size_t i;
	for (i = 0; i < l->len; i++) {
		unsigned char c = (unsigned char)l->s[i];
		if (c == ':')
			return i;
		if (c <= 32 || c >= 127)
			return 0;
	}
	return 0;
}

static int name_is(const struct str *f, size_t n, const char *want)
{
	return n == strlen(want) && strncasecmp(f->s, want, n) == 0;
}

/* One whole field (continuation lines included) is in f. */
static void field_done(const struct opts *o, struct str *f, struct str *out, struct str *rcpts,
                       struct header_seen *seen)
{
	size_t n = field_name(f);
	int keep = 1;

	if (!f->len)
		return;
	if (name_is(f, n, "date"))
		seen->date = 1;
	else if (name_is(f, n, "message-id"))
		seen->msgid = 1;
	else if (name_is(f, n, "from"))
		seen->from = 1;
	else if (name_is(f, n, "return-path"))
		keep = 0; /* the delivery agent writes the real one */
	if (name_is(f, n, "bcc"))
		keep = 0; /* blind copies stay blind */
	if (o->tflag && (name_is(f, n, "to") || name_is(f, n, "cc") || name_is(f, n, "bcc"))) {
		/* the list is NUL-separated: a NUL in the field would add a
		 * recipient that no reader of the header sees */
		if (memchr(f->s, 0, f->len))
			die(100, "fatal: a NUL byte in a To, Cc or Bcc field");
		if (!addrlist_parse(f->s + n + 1, f->len - n - 1, rcpts))
			die_nomem();
	}
	if (keep && !str_cat(out, f))
		die_nomem();
	f->len = 0;
}

void header_read(struct io *in, const struct opts *o, struct str *out, struct str *rcpts,
                 struct header_seen *seen, struct str *body, int *eof)
{
	struct str line = STR_INIT, f = STR_INIT;
	size_t lines = 0, bytes = 0;

	*eof = 0;
	body->len = 0;
	for (;;) {
		int r = line_get(in, &line);
		if (r == -1)
			die_sys(111, "fatal: unable to read the message");
		if (r == 0 || (r == 1 && o->dotstop && line_is_dot(&line))) {
			*eof = 1;
			break;
		}
		if (r == 2)
			die(100, "fatal: a header line is longer than 65536 bytes");
		if (++lines > HEADER_LINES)
			die(100, "fatal: more than 10000 header lines");
		bytes += line.len;
		if (bytes > HEADER_MAX)
			die(100, "fatal: the header section is larger than 1 MB");
		if (line.len == 1 && line.s[0] == '\n')
			break; /* the blank line; the writer puts one back */
		if ((line.s[0] == ' ' || line.s[0] == '\t') && f.len) {
			if (!str_cat(&f, &line))
				die_nomem();
			continue;
		}
		field_done(o, &f, out, rcpts, seen);
		if (!field_name(&line)) {
			/* not a header: the body starts here, without a blank line */
			if (!str_cat(body, &line))
				die_nomem();
			break;
		}
		if (!str_cat(&f, &line))
			die_nomem();
	}
	field_done(o, &f, out, rcpts, seen);
	/* a last field cut off by EOF still ends its line */
	if (out->len && out->s[out->len - 1] != '\n' && !str_catc(out, '\n'))
		die_nomem();
	str_free(&line);
	str_free(&f);
}
