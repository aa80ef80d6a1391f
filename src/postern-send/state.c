#include <string.h>
#include "state.h"
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

static int parse_line(const char *s, const char *end, struct rstate *r, size_t nrcpt, int *bounced)
{
	unsigned long long i, attempts = 0, next = 0;
	const char *p = s + 2;
	char kind;

	if (end - s == 1 && s[0] == 'B') {
		*bounced |= 1;
		return 1;
	}
	if (end - s == 1 && s[0] == 'W') {
		*bounced |= 2;
		return 1;
	}
	if (end - s < 3 || s[1] != ' ')
		return 0;
	kind = s[0];
	switch (kind) {
	case 'K':
		if (!field_num(&p, end, &i, 1) || i >= nrcpt)
			return 0;
		r[i].st = RS_DONE;
		r[i].why = 0;
		r[i].why_len = 0;
		return 1;
	case 'D':
		if (!field_num(&p, end, &i, 0) || i >= nrcpt)
			return 0;
		r[i].st = RS_FAILED;
		r[i].why = p;
		r[i].why_len = (size_t)(end - p);
		return 1;
	case 'Z':
		if (!field_num(&p, end, &i, 0) || i >= nrcpt || !field_num(&p, end, &attempts, 0) ||
		    !field_num(&p, end, &next, 0))
			return 0;
		r[i].st = RS_PENDING;
		r[i].attempts = attempts;
		r[i].next = next;
		r[i].why = p;
		r[i].why_len = (size_t)(end - p);
		return 1;
	default:
		return 0;
	}
}

size_t state_parse(const char *buf, size_t n, struct rstate *r, size_t nrcpt, int *bounced)
{
	size_t pos = 0, bad = 0;

	while (pos < n) {
		const char *nl = memchr(buf + pos, '\n', n - pos);
		if (!nl)
			break; /* torn by a crash in the middle of a write: never happened */
		if (memchr(buf + pos, 0, (size_t)(nl - (buf + pos))) ||
		    !parse_line(buf + pos, nl, r, nrcpt, bounced))
			bad++;
		pos = (size_t)(nl - buf) + 1;
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
