#include <stdlib.h>
#include <string.h>
#include "dotfile.h"
#include "addr.h"
#include "ascii.h"
#include "case.h"

static int add(struct dotfile *d, enum dot_kind kind, const char *s, size_t len, size_t line)
{
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 8;
		struct dot_entry *e = realloc(d->e, cap * sizeof *e);
		if (!e)
			return 0;
		d->e = e;
		d->cap = cap;
	}
	d->e[d->n].kind = kind;
	d->e[d->n].s = s;
	d->e[d->n].len = len;
	d->e[d->n].line = line;
	d->n++;
	return 1;
}

/* One line, trailing blanks already gone, not empty. */
static enum dot_error one_line(struct dotfile *d, const char *s, size_t n, size_t line)
{
	size_t i;

	if (memchr(s, 0, n))
		return DOT_ERR_SYNTAX;
	switch (s[0]) {
	case '#':
		return DOT_OK;
	case '.':
	case '/':
		/* qmail's rule: a path ending in '/' is a Maildir, anything else an mbox */
		if (s[n - 1] != '/')
			return DOT_ERR_MBOX;
		return add(d, DOT_MAILDIR, s, n, line) ? DOT_OK : DOT_ERR_NOMEM;
	case '|':
		for (i = 1; i < n && ascii_wsp_cr(s[i]); i++)
			;
		if (i == n)
			return DOT_ERR_PROGRAM;
		return add(d, DOT_PROGRAM, s + 1, n - 1, line) ? DOT_OK : DOT_ERR_NOMEM;
	case '&':
		s++;
		n--;
		break;
	default:
		if (!ascii_alnum(s[0]))
			return DOT_ERR_SYNTAX;
	}
	if (addr_check(s, n) != ADDR_OK)
		return DOT_ERR_FORWARD;
	return add(d, DOT_FORWARD, s, n, line) ? DOT_OK : DOT_ERR_NOMEM;
}

enum dot_error dotfile_parse(struct dotfile *d, const char *buf, size_t len, size_t *errline)
{
	size_t pos = 0, line = 0;

	d->e = 0;
	d->n = d->cap = 0;
	*errline = 0;
	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - buf) : len;
		size_t n = end - pos;
		enum dot_error r;

		*errline = ++line;
		if (line > DOT_LINES_MAX)
			return DOT_ERR_LINES;
		if (n > DOT_LINE_MAX)
			return DOT_ERR_LONG;
		while (n && ascii_wsp_cr(buf[pos + n - 1]))
			n--;
		if (n) {
			r = one_line(d, buf + pos, n, line);
			if (r != DOT_OK)
				return r;
		}
		pos = end + 1;
	}
	*errline = 0;
	return DOT_OK;
}

void dotfile_free(struct dotfile *d)
{
	free(d->e);
	d->e = 0;
	d->n = d->cap = 0;
}

const char *dot_error_text(enum dot_error e)
{
	switch (e) {
	case DOT_OK: return "ok";
	case DOT_ERR_LONG: return "line too long";
	case DOT_ERR_LINES: return "too many lines";
	case DOT_ERR_MBOX: return "mbox delivery is not supported (a Maildir line must end in '/')";
	case DOT_ERR_FORWARD: return "bad forward address";
	case DOT_ERR_PROGRAM: return "empty program line";
	case DOT_ERR_SYNTAX: return "unrecognised line";
	case DOT_ERR_NOMEM: return "out of memory";
	}
	return "unknown error";
}

static int candidate(struct str *out, const char *ext, size_t keep, int dflt, const char *rest, size_t restlen)
{
	if (!str_cats(out, ".postern-") || !str_catb(out, ext, keep))
		return 0;
	if (dflt && !str_cats(out, "default"))
		return 0;
	return str_catz(out) && str_catb(out, rest, restlen) && str_catz(out);
}

int dotfile_candidates(struct str *out, const char *ext, size_t n)
{
	size_t i;

	out->len = 0;
	if (!candidate(out, ext, n, 0, "", 0))
		return 0;
	/* qmail's -default search: cut at each '-' from the right, keeping the '-' */
	for (i = n; i > 0; i--)
		if (ext[i - 1] == '-' && i - 1 > 0)
			if (!candidate(out, ext, i, 1, ext + i, n - i))
				return 0;
	return candidate(out, ext, 0, 1, ext, n);
}

int ext_check(const char *ext, size_t n)
{
	size_t i;

	if (n == 0 || n > EXT_MAX || ext[0] == '.')
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)ext[i];
		if (c == '/' || c < 0x20 || c == 0x7f)
			return 0;
	}
	return 1;
}

int vlocal_check(const char *l, size_t n)
{
	size_t i;

	if (n == 0 || n > VLOCAL_MAX || l[0] == '.')
		return 0;
	for (i = 0; i < n; i++) {
		char c = l[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '+' || c == '-'))
			return 0;
	}
	return 1;
}

int vdomain_check(const char *d, size_t n)
{
	if (!domain_check(d, n) || d[0] == '.' || memchr(d, '/', n))
		return 0;
	return 1;
}

size_t vlocal_base(const char *l, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (l[i] == '-' || l[i] == '+')
			return i;
	return n;
}

static int prefix_ci(const char *s, size_t n, const char *p)
{
	size_t m = strlen(p), i;
	if (n < m)
		return 0;
	for (i = 0; i < m; i++)
		if ((char)ascii_tolower(s[i]) != p[i])
			return 0;
	return 1;
}

int header_scan(const char *buf, size_t len, const char *rcpt, size_t rlen, size_t *hops)
{
	size_t pos = 0;
	int loop = 0;

	*hops = 0;
	/* Only whole lines count: a line cut by the caller's bound could
	 * otherwise look like a shorter address. */
	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t end, a, b;
		if (!nl)
			break;
		end = (size_t)(nl - buf);
		if (end == pos || (end == pos + 1 && buf[pos] == '\r'))
			break; /* the empty line: end of the header */
		if (prefix_ci(buf + pos, end - pos, "received:"))
			(*hops)++;
		else if (prefix_ci(buf + pos, end - pos, "delivered-to:")) {
			(*hops)++;
			a = pos + 13;
			b = end;
			while (a < b && ascii_wsp_cr(buf[a]))
				a++;
			while (b > a && ascii_wsp_cr(buf[b - 1]))
				b--;
			if (b - a == rlen && case_eqn(buf + a, rcpt, rlen))
				loop = 1;
		}
		pos = end + 1;
	}
	return loop;
}
