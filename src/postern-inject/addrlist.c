#include <string.h>
#include "inject.h"

struct parse {
	struct str cur;   /* text outside angle brackets, comments and blanks removed */
	struct str angle; /* text inside the last <...> */
	int have_angle;
};

static int emit(struct parse *p, struct str *out)
{
	struct str *a = p->have_angle ? &p->angle : &p->cur;
	const char *s = a->s ? a->s : "";
	size_t n = a->len;
	int ok = 1;

	/* obsolete source route: <@relay1,@relay2:user@domain> */
	if (n && s[0] == '@') {
		const char *colon = memchr(s, ':', n);
		if (colon) {
			n -= (size_t)(colon + 1 - s);
			s = colon + 1;
		}
	}
	if (n)
		ok = str_catb(out, s, n) && str_catz(out);
	p->cur.len = p->angle.len = 0;
	p->have_angle = 0;
	return ok;
}

int addrlist_parse(const char *v, size_t n, struct str *out)
{
	struct parse p = { STR_INIT, STR_INIT, 0 };
	size_t i;
	int depth = 0, quote = 0, angle = 0, literal = 0, gap = 0, ok = 1;

	if (!str_ready(&p.cur, 0) || !str_ready(&p.angle, 0))
		ok = 0;
	for (i = 0; i < n && ok; i++) {
		char c = v[i];
		struct str *t = angle ? &p.angle : &p.cur;

		/* Blanks between two parts of one address are kept as one space,
		 * so "a b@example.org" is refused by addr_check instead of
		 * silently becoming "ab@example.org".  A display name may hold
		 * blanks: it is dropped when <...> follows. */
		if (gap && t->len && !depth && c != ' ' && c != '\t' && c != '\r' && c != '\n' && c != '(' &&
		    c != ',' && c != ';' && c != '<' && c != '>' && (c != ':' || angle))
			ok = str_catc(t, ' ');
		if (!depth && !quote && !literal)
			gap = 0;
		if (depth) {
			if (c == '\\')
				i++;
			else if (c == '(')
				depth++;
			else if (c == ')')
				depth--;
			continue;
		}
		if (quote || literal) {
			ok = str_catc(t, c);
			if (c == '\\' && i + 1 < n)
				ok = ok && str_catc(t, v[++i]);
			else if (quote && c == '"')
				quote = 0;
			else if (literal && c == ']')
				literal = 0;
			continue;
		}
		switch (c) {
		case '"': quote = 1; ok = str_catc(t, c); break;
		case '[': literal = 1; ok = str_catc(t, c); break;
		case '(': depth = 1; gap = 1; break;
		case '<': angle = 1; p.angle.len = 0; p.have_angle = 1; gap = 0; break;
		case '>': angle = 0; break;
		case ' ': case '\t': case '\r': case '\n': gap = 1; break;
		case ',': case ';':
			if (angle)
				ok = str_catc(t, c);
			else
				ok = emit(&p, out);
			break;
		case ':':
			if (angle)
				ok = str_catc(t, c);
			else
				p.cur.len = 0, p.have_angle = 0; /* a group's name */
			break;
		default: ok = str_catc(t, c);
		}
	}
	if (ok)
		ok = emit(&p, out);
	str_free(&p.cur);
	str_free(&p.angle);
	return ok;
}
