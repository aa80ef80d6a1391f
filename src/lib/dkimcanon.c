/* DKIM's reading of a message (dkim.h): the header section split into
 * fields, and the relaxed canonicalization of a field and of the body
 * (RFC 6376 3.4.2 and 3.4.4).
 *
 * Line ends.  The queue holds LF line ends, and postern-remote sends each
 * LF as CRLF, except that a CR already before an LF (or at the very end
 * of the message) is sent as the CR of that CRLF, not doubled
 * (src/postern-remote/smtp.c, put_body).  So here too a CR just before an
 * LF belongs to the line end, and is dropped with it; any other CR is a
 * byte of the line.  In the header section such a CR is refused
 * (dkim_fields: a "bare CR"); in the body it is text, as the verifier
 * will see it. */
#include <stdint.h>
#include <string.h>
#include "dkim.h"
#include "ascii.h"

int dkim_fields(const char *msg, size_t len, struct dkim_field *f, size_t max, size_t *n, size_t *body)
{
	size_t pos = 0, k = 0;

	*n = 0;
	while (pos < len) {
		const char *nl = memchr(msg + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - msg) : len; /* the LF, or the end */
		size_t next = nl ? end + 1 : len, i;

		if (nl && end > pos && msg[end - 1] == '\r')
			end--; /* CR LF: the CR is part of the line end */
		if (end == pos && nl) { /* the empty line: the body follows it */
			*n = k;
			*body = next;
			return 0;
		}
		if (next > DKIM_HEADER_MAX)
			return -1;
		for (i = pos; i < end; i++)
			if (msg[i] == 0 || msg[i] == '\r')
				return -1;
		if (ascii_wsp(msg[pos])) { /* a continuation line */
			if (k == 0)
				return -1;
			f[k - 1].rawlen = end - (size_t)(f[k - 1].raw - msg);
		} else { /* a field: the name, any blanks (obs-optional), ':' */
			size_t name;
			for (i = pos; i < end && msg[i] != ':' && !ascii_wsp(msg[i]); i++)
				if ((unsigned char)msg[i] < 33 || (unsigned char)msg[i] > 126)
					return -1;
			name = i - pos;
			while (i < end && ascii_wsp(msg[i]))
				i++;
			if (name == 0 || i == end || msg[i] != ':' || k >= max)
				return -1;
			f[k].name = f[k].raw = msg + pos;
			f[k].namelen = name;
			f[k].rawlen = end - pos;
			k++;
		}
		pos = next;
	}
	*n = k;
	*body = len;
	return 0;
}

int dkim_canon_field(const struct dkim_field *f, struct str *out)
{
	const char *v = f->raw;
	size_t n = f->rawlen, i = f->namelen, o;
	int space = 0, text = 0;
	char *p;

	/* the canonical form is never longer than the name, ':', the
	 * value and CRLF */
	if (f->namelen > SIZE_MAX - 3 - n || !str_readyplus(out, f->namelen + n + 3))
		return -1;
	p = out->s;
	o = out->len;
	for (i = 0; i < f->namelen; i++) {
		char c = f->name[i];
		p[o++] = (char)ascii_tolower(c);
	}
	p[o++] = ':';
	/* the value: after the name, any blanks (obs-optional: deleted, as
	 * RFC 6376 3.4.2 has it) and the colon */
	for (i = f->namelen; i < n && ascii_wsp(v[i]); i++)
		;
	if (i < n && v[i] == ':')
		i++;
	for (; i < n; i++) {
		char c = v[i];
		if (c == '\n' || (c == '\r' && i + 1 < n && v[i + 1] == '\n'))
			continue; /* unfolded: the line end goes, the blank after it stays */
		if (ascii_wsp(c)) {
			space = 1;
			continue;
		}
		if (space && text)
			p[o++] = ' ';
		space = 0;
		text = 1;
		p[o++] = c;
	}
	p[o++] = '\r';
	p[o++] = '\n';
	out->len = o;
	p[o] = 0;
	return 0;
}

/* The body.  What a line holds back at its end, in b->pending_wsp, until
 * the next byte tells whether it is inner (kept: one space, the CR) or
 * the line's end (dropped): a run of blanks, then perhaps a CR.  A blank
 * after a held CR shows the CR was text, so nothing else is ever held. */
#define HELD_WSP 1
#define HELD_CR 2

/* The canonical bytes of one dkim_body_put call, handed to b->out in
 * pieces of up to sizeof buf. */
struct outbuf {
	struct dkim_body *b;
	size_t n;
	char buf[4096];
};

static void flush(struct outbuf *o)
{
	if (o->n)
		o->b->out(o->b->ctx, o->buf, o->n);
	o->n = 0;
}

static void put(struct outbuf *o, const char *s, size_t n)
{
	while (n) {
		size_t k = sizeof o->buf - o->n;
		if (k > n)
			k = n;
		memcpy(o->buf + o->n, s, k);
		o->n += k;
		s += k;
		n -= k;
		if (o->n == sizeof o->buf)
			flush(o);
	}
}

/* A byte of text follows on this line: the empty lines held back were
 * not at the end, nor were the bytes held back at the end of this one. */
static void text(struct dkim_body *b, struct outbuf *o)
{
	static const char crlfs[] = "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n";

	if (!b->line_has_text) {
		while (b->pending_crlf) {
			size_t k = b->pending_crlf < 16 ? (size_t)b->pending_crlf : 16;
			put(o, crlfs, 2 * k);
			b->pending_crlf -= k;
		}
		b->line_has_text = 1;
	}
	if (b->pending_wsp & HELD_WSP)
		put(o, " ", 1);
	if (b->pending_wsp & HELD_CR)
		put(o, "\r", 1);
	b->pending_wsp = 0;
}

void dkim_body_init(struct dkim_body *b, void (*out)(void *ctx, const char *b, size_t n), void *ctx)
{
	b->out = out;
	b->ctx = ctx;
	b->pending_crlf = 0;
	b->pending_wsp = 0;
	b->line_has_text = 0;
}

void dkim_body_put(struct dkim_body *b, const char *s, size_t n)
{
	struct outbuf o;
	size_t i = 0;

	o.b = b;
	o.n = 0;
	while (i < n) {
		char c = s[i];
		size_t j;

		if (c == '\n') {
			if (b->line_has_text)
				put(&o, "\r\n", 2);
			else
				b->pending_crlf++;
			b->line_has_text = 0;
			b->pending_wsp = 0; /* trailing blanks, the CR of CR LF */
			i++;
		} else if (ascii_wsp(c) || c == '\r') {
			if (b->pending_wsp & HELD_CR)
				text(b, &o); /* the CR held was not before an LF */
			b->pending_wsp |= c == '\r' ? HELD_CR : HELD_WSP;
			i++;
		} else {
			for (j = i + 1; j < n && s[j] != '\n' && s[j] != '\r' && !ascii_wsp(s[j]); j++)
				;
			text(b, &o);
			put(&o, s + i, j - i);
			i = j;
		}
	}
	flush(&o);
}

void dkim_body_end(struct dkim_body *b)
{
	/* a last line without its LF is ended (a CR held at the end goes
	 * with it, as postern-remote sends it); empty lines are dropped */
	if (b->line_has_text)
		b->out(b->ctx, "\r\n", 2);
	b->pending_crlf = 0;
	b->pending_wsp = 0;
	b->line_has_text = 0;
}
