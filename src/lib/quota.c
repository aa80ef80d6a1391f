/* quota.h */
#include <string.h>
#include "quota.h"
#include "ascii.h"
#include "case.h"

/* One "N[KMG]S" or "N[KMG]C" of a definition, into q. */
static int part(const char *s, size_t n, struct quota *q, int *seen)
{
	unsigned long long v = 0, mul = 1;
	size_t i = 0;
	char kind;

	if (n < 2)
		return 0;
	kind = s[n - 1];
	n--;
	if (n > 1 && (s[n - 1] == 'K' || s[n - 1] == 'M' || s[n - 1] == 'G')) {
		mul = s[n - 1] == 'K' ? 1024ULL : s[n - 1] == 'M' ? 1048576ULL : 1073741824ULL;
		n--;
	}
	for (; i < n; i++) {
		unsigned d = (unsigned)(s[i] - '0');
		if (!ascii_digit(s[i]) || v > (~0ULL - d) / 10)
			return 0;
		v = v * 10 + d;
	}
	if (v > ~0ULL / mul)
		return 0;
	v *= mul;
	if (kind == 'S' && !(*seen & 1)) {
		q->bytes = v;
		*seen |= 1;
	} else if (kind == 'C' && !(*seen & 2)) {
		q->count = v;
		*seen |= 2;
	} else {
		return 0; /* another kind, or one twice */
	}
	return 1;
}

int quota_parse(const char *s, size_t n, struct quota *q)
{
	const char *comma = memchr(s, ',', n);
	int seen = 0;

	q->bytes = q->count = 0;
	if ((n == 4 && case_eqb(s, 4, "none", 4)) || (n == 1 && s[0] == '0'))
		return 1;
	if (!comma)
		return part(s, n, q, &seen);
	return part(s, (size_t)(comma - s), q, &seen) && part(comma + 1, n - (size_t)(comma - s) - 1, q, &seen);
}

int quota_format(struct str *out, const struct quota *q)
{
	if (!q->count)
		return str_catu(out, q->bytes) && str_catc(out, 'S');
	if (!q->bytes)
		return str_catu(out, q->count) && str_catc(out, 'C');
	return str_catu(out, q->bytes) && str_cats(out, "S,") && str_catu(out, q->count) && str_catc(out, 'C');
}

int quota_same(const struct quota *a, const struct quota *b)
{
	return a->bytes == b->bytes && a->count == b->count;
}

/* A signed decimal at s[*i], blanks before it; 1 with *v, 0 if none. */
static int signed_num(const char *s, size_t n, size_t *i, long long *v)
{
	unsigned long long u = 0;
	int neg = 0, digits = 0;

	while (*i < n && ascii_wsp(s[*i]))
		++*i;
	if (*i < n && (s[*i] == '-' || s[*i] == '+'))
		neg = s[(*i)++] == '-';
	for (; *i < n && ascii_digit(s[*i]); ++*i, digits++) {
		if (u > 922337203685477580ULL)
			return 0;
		u = u * 10 + (unsigned long long)(s[*i] - '0');
	}
	if (!digits || u > 9223372036854775807ULL)
		return 0;
	*v = neg ? -(long long)u : (long long)u;
	return 1;
}

static int add(long long *sum, long long v)
{
	if ((v > 0 && *sum > __LONG_LONG_MAX__ - v) || (v < 0 && *sum < -__LONG_LONG_MAX__ - 1 - v))
		return 0;
	*sum += v;
	return 1;
}

int quota_read(const char *t, size_t n, struct quota *def, struct quota_usage *use)
{
	const char *nl = memchr(t, '\n', n);
	size_t i, end;

	use->bytes = use->count = 0;
	use->lines = 0;
	if (!nl || t[n - 1] != '\n')
		return 0;
	end = (size_t)(nl - t);
	while (end > 0 && ascii_wsp(t[end - 1]))
		end--;
	if (!quota_parse(t, end, def))
		return 0;
	for (i = (size_t)(nl - t) + 1; i < n; i++) {
		long long b, c;
		if (!signed_num(t, n, &i, &b) || !signed_num(t, n, &i, &c))
			return 0;
		while (i < n && ascii_wsp(t[i]))
			i++;
		if (i == n || t[i] != '\n' || !add(&use->bytes, b) || !add(&use->count, c))
			return 0;
		use->lines++;
	}
	return 1;
}

int quota_over(const struct quota *q, const struct quota_usage *use, unsigned long long msgbytes)
{
	unsigned long long bytes = use->bytes > 0 ? (unsigned long long)use->bytes : 0;
	unsigned long long count = use->count > 0 ? (unsigned long long)use->count : 0;

	if (q->bytes && (bytes > q->bytes || msgbytes > q->bytes - bytes))
		return 1;
	return q->count && count >= q->count;
}
