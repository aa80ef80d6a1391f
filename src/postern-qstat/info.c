#include <string.h>
#include "qstat.h"
#include "fmt.h"

/* A number, then a space or the end of the line. */
static int num(const char **p, const char *end, unsigned long long *u)
{
	size_t k = scan_ulong(*p, (size_t)(end - *p), u);
	if (!k)
		return 0;
	*p += k;
	if (*p < end) {
		if (**p != ' ')
			return 0;
		(*p)++;
	}
	return 1;
}

/* Records (written by postern-send): "K i", "R i" (relayed: delivered too),
 * "D i why", "Z i attempts next why", "B". */
static void line(const char *s, const char *end, struct rcpt_state *r, size_t n)
{
	unsigned long long i, a = 0, t = 0;
	const char *p = s + 2;

	if (end - s < 3 || s[1] != ' ' || !num(&p, end, &i) || i >= n)
		return;
	switch (s[0]) {
	case 'K':
	case 'R': r[i].st = ST_DONE; break;
	case 'D': r[i].st = ST_FAILED; r[i].why = p; r[i].why_len = (size_t)(end - p); break;
	case 'Z':
		if (!num(&p, end, &a) || !num(&p, end, &t))
			return;
		r[i].st = ST_PENDING;
		r[i].attempts = a;
		r[i].next = t;
		r[i].why = p;
		r[i].why_len = (size_t)(end - p);
		break;
	}
}

void info_apply(const char *buf, size_t len, struct rcpt_state *r, size_t n)
{
	const char *p = buf, *end = buf + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			break; /* a torn last line is not a record yet */
		line(p, nl, r, n);
		p = nl + 1;
	}
}
