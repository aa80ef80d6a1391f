#include <stdint.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>
#include "uniq.h"
#include "fmt.h"
#include "rand.h"

int uniq_cat_random(struct str *out)
{
	uint64_t r;
	char hex[16];

	if (!rand_bytes(&r, sizeof r))
		return 0;
	return str_catb(out, hex, fmt_hex64(hex, r));
}

int uniq_cat_msgid(struct str *out, const char *domain, size_t n)
{
	return str_catc(out, '<') && uniq_cat_random(out) && uniq_cat_random(out) && str_catc(out, '@') &&
	       str_catb(out, domain, n) && str_catc(out, '>');
}

static int cat_usec(struct str *out, unsigned long usec)
{
	char buf[FMT_ULONG];
	size_t n = fmt_ulong(buf, usec), i;
	for (i = n; i < 6; i++)
		if (!str_catc(out, '0'))
			return 0;
	return str_catb(out, buf, n);
}

int uniq_qid(struct str *out)
{
	struct timeval tv;

	gettimeofday(&tv, 0);
	out->len = 0;
	return str_catu(out, (unsigned long long)tv.tv_sec) && str_catc(out, '.') &&
	       cat_usec(out, (unsigned long)tv.tv_usec) && str_catc(out, 'P') &&
	       str_catu(out, (unsigned long long)getpid()) && str_catc(out, 'R') && uniq_cat_random(out);
}

/* The end of a run of at least one digit (hex: 0-9a-f) from i, or 0. */
static size_t run_end(const char *s, size_t len, size_t i, int hex)
{
	size_t j = i;
	while (j < len && ((s[j] >= '0' && s[j] <= '9') || (hex && s[j] >= 'a' && s[j] <= 'f')))
		j++;
	return j > i ? j : 0;
}

/* Exactly what uniq_qid makes, so that no other name in the queue's
 * directories (ID.env, info/.pN, a pool name) can pass for one: the sweep
 * of mess/ once took envelopes for message files because an alphabet
 * check let "ID.env" through. */
int qid_valid(const char *s, size_t len)
{
	static const char sep[3] = { '.', 'P', 'R' };
	size_t i = 0, k;

	if (len == 0 || len > QID_MAX)
		return 0;
	for (k = 0; k < 3; k++) {
		i = run_end(s, len, i, 0);
		if (!i || i == len || s[i] != sep[k])
			return 0;
		i++;
	}
	return run_end(s, len, i, 1) == len;
}

unsigned long long qid_time(const char *s, size_t len)
{
	unsigned long long t = 0;
	if (!scan_ulong(s, len, &t))
		return 0;
	return t;
}

int uniq_maildir(struct str *out, const char *host)
{
	struct timeval tv;
	const char *h;

	gettimeofday(&tv, 0);
	out->len = 0;
	if (!str_catu(out, (unsigned long long)tv.tv_sec) || !str_cats(out, ".M") ||
	    !cat_usec(out, (unsigned long)tv.tv_usec) || !str_catc(out, 'P') ||
	    !str_catu(out, (unsigned long long)getpid()) || !str_catc(out, 'R') || !uniq_cat_random(out) ||
	    !str_catc(out, '.'))
		return 0;
	/* The Maildir convention escapes '/' and ':' in the host part; ',' too
	 * (\054), since postern-local appends ",S=" and ",W=" fields
	 * after it and a host must not pass for one. */
	for (h = host; *h; h++) {
		if (*h == '/') {
			if (!str_cats(out, "\\057"))
				return 0;
		} else if (*h == ':') {
			if (!str_cats(out, "\\072"))
				return 0;
		} else if (*h == ',') {
			if (!str_cats(out, "\\054"))
				return 0;
		} else if (!str_catc(out, *h))
			return 0;
	}
	return 1;
}
