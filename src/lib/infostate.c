#include <string.h>
#include "infostate.h"
#include "fmt.h"

/* Reads a decimal number followed by one space (or, if last, the end). */
static int field_num(const char **p, const char *end, unsigned long long *u, int last)
{
	size_t n = scan_ulong(*p, (size_t)(end - *p), u);
	if (n == 0 || n > 20)
		return 0;
	*p += n;
	if (last)
		return *p == end;
	if (*p >= end || **p != ' ')
		return 0;
	(*p)++;
	return 1;
}

/* One line, s to end (its '\n' not included), into *rec. */
static int parse_line(const char *s, const char *end, struct srec *rec, size_t nrcpt)
{
	const char *p = s + 2;
	unsigned long long i;

	rec->attempts = 0;
	rec->next = 0;
	rec->why = 0;
	rec->why_len = 0;
	if (end - s == 1 && (s[0] == 'B' || s[0] == 'W')) {
		rec->kind = s[0];
		return 1;
	}
	if (end - s < 3 || s[1] != ' ')
		return 0;
	rec->kind = s[0];
	switch (rec->kind) {
	case 'K':
	case 'R':
	case 'H':
	case 'X':
		if (!field_num(&p, end, &i, 1))
			return 0;
		break;
	case 'D':
		if (!field_num(&p, end, &i, 0))
			return 0;
		break;
	case 'Z':
		if (!field_num(&p, end, &i, 0) || !field_num(&p, end, &rec->attempts, 0) ||
		    !field_num(&p, end, &rec->next, 0))
			return 0;
		break;
	default:
		return 0;
	}
	if (i >= nrcpt)
		return 0;
	rec->i = (size_t)i;
	if (rec->kind == 'D' || rec->kind == 'Z') {
		rec->why = p;
		rec->why_len = (size_t)(end - p);
	}
	return 1;
}

int state_next(const char *buf, size_t n, size_t *pos, struct srec *rec, size_t nrcpt)
{
	const char *s = buf + *pos, *nl;

	if (*pos >= n || !(nl = memchr(s, '\n', n - *pos)))
		return -1; /* torn by a crash in the middle of a write: never happened */
	*pos = (size_t)(nl - buf) + 1;
	return !memchr(s, 0, (size_t)(nl - s)) && parse_line(s, nl, rec, nrcpt);
}

void state_apply(const struct srec *rec, struct rstate *r, int *bounced)
{
	struct rstate *x = r + rec->i;

	switch (rec->kind) {
	case 'B': *bounced |= 1; return;
	case 'W': *bounced |= 2; return;
	case 'K': x->st = RS_DONE; break;
	case 'R': x->st = RS_RELAYED; break;
	case 'H': x->st = RS_HANDED; break;
	case 'X': x->st = RS_EXPANDED; break;
	case 'D': x->st = RS_FAILED; break;
	default:
		x->st = RS_PENDING;
		x->attempts = rec->attempts;
		x->next = rec->next;
	}
	x->why = rec->why;
	x->why_len = rec->why_len;
}

size_t state_parse(const char *buf, size_t n, struct rstate *r, size_t nrcpt, int *bounced)
{
	size_t pos = 0, bad = 0;
	struct srec rec;
	int k;

	while ((k = state_next(buf, n, &pos, &rec, nrcpt)) >= 0) {
		if (k)
			state_apply(&rec, r, bounced);
		else
			bad++;
	}
	return bad;
}

int state_reason(struct str *out, const char *why, size_t n)
{
	size_t i;
	if (n > REASON_MAX)
		n = REASON_MAX;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)why[i];
		if (!str_catc(out, (c < 0x20 || c == 0x7f) ? ' ' : (char)c))
			return 0;
	}
	return 1;
}

static int head(struct str *out, char kind, size_t i)
{
	return str_catc(out, kind) && str_catc(out, ' ') && str_catu(out, i);
}

int state_line_K(struct str *out, size_t i)
{
	return head(out, 'K', i) && str_catc(out, '\n');
}

int state_line_R(struct str *out, size_t i)
{
	return head(out, 'R', i) && str_catc(out, '\n');
}

int state_line_H(struct str *out, size_t i)
{
	return head(out, 'H', i) && str_catc(out, '\n');
}

int state_line_X(struct str *out, size_t i)
{
	return head(out, 'X', i) && str_catc(out, '\n');
}

int state_line_D(struct str *out, size_t i, const char *why, size_t n)
{
	return head(out, 'D', i) && str_catc(out, ' ') && state_reason(out, why, n) &&
	       str_catc(out, '\n');
}

int state_line_Z(struct str *out, size_t i, unsigned long long attempts, unsigned long long next,
                 const char *why, size_t n)
{
	return head(out, 'Z', i) && str_catc(out, ' ') && str_catu(out, attempts) &&
	       str_catc(out, ' ') && str_catu(out, next) && str_catc(out, ' ') &&
	       state_reason(out, why, n) && str_catc(out, '\n');
}

int state_line(struct str *out, size_t i, const struct rstate *r)
{
	switch (r->st) {
	case RS_DONE: return state_line_K(out, i);
	case RS_RELAYED: return state_line_R(out, i);
	case RS_HANDED: return state_line_H(out, i);
	case RS_EXPANDED: return state_line_X(out, i);
	case RS_FAILED: return state_line_D(out, i, r->why, r->why_len);
	default:
		if (!r->attempts && !r->next)
			return 1; /* fresh: no record */
		return state_line_Z(out, i, r->attempts, r->next, r->why, r->why_len);
	}
}

int state_line_B(struct str *out)
{
	return str_cats(out, "B\n");
}

int state_line_W(struct str *out)
{
	return str_cats(out, "W\n");
}

unsigned long long state_backoff(unsigned long long attempts, unsigned long long min,
                                 unsigned long long max)
{
	unsigned long long d = min ? min : 1;
	if (max < d)
		max = d;
	while (attempts > 1 && d < max) {
		d = d > max / 2 ? max : d * 2;
		attempts--;
	}
	return d > max ? max : d;
}
