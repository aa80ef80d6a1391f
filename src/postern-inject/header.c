#include <string.h>
#include "inject.h"
#include "die.h"
#include "authres.h"

/* What header_read carries from field to field. */
struct hstate {
	const struct opts *o;
	struct str *out, *rcpts;
	struct str resent; /* -t: addresses of Resent-To, -Cc, -Bcc */
	struct header_seen *seen;
	size_t fields;     /* fields begun so far */
};

/* A field's name is printable ASCII other than ':'; blanks may stand
 * between it and the colon (obs-optional, RFC 5322 section 4.5.3), and
 * "Bcc : x" must be a Bcc field: as text it would show every reader the
 * blind copy.  Returns the name's length, 0 if s does not start a field,
 * and in *value where the value starts (after the colon). */
static size_t field_name(const char *s, size_t len, size_t *value)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == ':') {
			*value = i + 1;
			return n;
		}
		if (c == ' ' || c == '\t') {
			if (!n)
				return 0;
		} else if (c <= 32 || c >= 127 || n != i) {
			return 0; /* a control byte, or a name with a blank inside */
		} else {
			n = i + 1;
		}
	}
	return 0;
}

static int name_is(const char *name, size_t n, const char *want)
{
	return n == strlen(want) && strncasecmp(name, want, n) == 0;
}

/* Whether line begins a header field.  Blanks before the colon are taken
 * only after a field, or for a Bcc (whose text would show every reader the
 * blind copy): text piped to sendmail without a header often starts like
 * one ("processor\t: 0", "Date : Friday"), and was body before they were
 * taken at all. */
static size_t field_begins(const struct hstate *h, const struct str *line, size_t *v)
{
	size_t n = field_name(line->s, line->len, v);

	if (n && !h->fields && line->s[n] != ':' && !name_is(line->s, n, "bcc") &&
	    !name_is(line->s, n, "resent-bcc"))
		return 0;
	return n;
}

/* To, Cc or Bcc: the fields -t takes recipients from */
static int name_is_rcpt(const char *name, size_t n)
{
	return name_is(name, n, "to") || name_is(name, n, "cc") || name_is(name, n, "bcc");
}

/* One whole field (continuation lines included) is in f. */
static void field_done(struct hstate *h, struct str *f)
{
	size_t v = 0, n = field_name(f->s, f->len, &v);
	/* a Resent- field's own name: Resent-Bcc is a Bcc of the resending */
	int resent = n > 7 && strncasecmp(f->s, "resent-", 7) == 0;
	const char *base = resent ? f->s + 7 : f->s;
	size_t bn = resent ? n - 7 : n;
	int keep = 1;

	if (!f->len)
		return;
	if (name_is(f->s, n, "date"))
		h->seen->date = 1;
	else if (name_is(f->s, n, "message-id"))
		h->seen->msgid = 1;
	else if (name_is(f->s, n, "from"))
		h->seen->from = 1;
	else if (name_is(f->s, n, "return-path"))
		keep = 0; /* the delivery agent writes the real one */
	else if (authres_is_ours(f->s, f->len - (f->s[f->len - 1] == '\n'), h->o->me))
		keep = 0; /* RFC 8601 5: only this host speaks for this host, to
		           * the local readers a user's mail reaches too */
	if (resent)
		h->seen->resent = 1;
	if (name_is(base, bn, "bcc"))
		keep = 0; /* blind copies stay blind */
	if (h->o->tflag && name_is_rcpt(base, bn)) {
		/* the list is NUL-separated: a NUL in the field would add a
		 * recipient that no reader of the header sees */
		if (memchr(f->s, 0, f->len))
			die(100, "fatal: a NUL byte in a To, Cc or Bcc field");
		if (!addrlist_parse(f->s + v, f->len - v, resent ? &h->resent : h->rcpts))
			die_nomem();
	}
	if (keep && !str_cat(h->out, f))
		die_nomem();
	f->len = 0;
}

/* A line that cannot be a header line ends the header section.  Returns
 * 1 if line (r from line_get) is a header line, 0 if the body starts with
 * it; dies on a header line longer than LINE_CHUNK. */
static int header_line(struct hstate *h, struct str *f, const struct str *line, int r)
{
	size_t v;
	int cont = (line->s[0] == ' ' || line->s[0] == '\t') && f->len;

	if (r == 2 && (cont || field_begins(h, line, &v)))
		die(100, "fatal: a header line is longer than 65536 bytes");
	if (cont)
		return 1;
	field_done(h, f);
	if (!field_begins(h, line, &v))
		return 0;
	h->fields++;
	return 1;
}

void header_read(struct io *in, const struct opts *o, struct str *out, struct str *rcpts,
                 struct header_seen *seen, struct str *body, int *eof)
{
	struct hstate h = { o, out, rcpts, STR_INIT, seen, 0 };
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
		if (++lines > HEADER_LINES)
			die(100, "fatal: more than 10000 header lines");
		bytes += line.len;
		if (bytes > HEADER_MAX)
			die(100, "fatal: the header section is larger than 1 MB");
		if (line.len == 1 && line.s[0] == '\n')
			break; /* the blank line; the writer puts one back */
		if (!header_line(&h, &f, &line, r)) {
			/* not a header: the body starts here, without a blank
			 * line (a chunk of a long line: qq_run reads the rest) */
			if (!str_cat(body, &line))
				die_nomem();
			break;
		}
		if (!str_cat(&f, &line))
			die_nomem();
	}
	field_done(&h, &f);
	/* A message that was resent goes to the resending's recipients, not
	 * again to the first ones (RFC 5322 section 3.6.6; as qmail-inject
	 * and Postfix do). */
	if (seen->resent && !str_copyb(rcpts, h.resent.s ? h.resent.s : "", h.resent.len))
		die_nomem();
	/* a last field cut off by EOF still ends its line */
	if (out->len && out->s[out->len - 1] != '\n' && !str_catc(out, '\n'))
		die_nomem();
	str_free(&line);
	str_free(&f);
	str_free(&h.resent);
}
