#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "str.h"
#include "fmt.h"

int str_ready(struct str *sa, size_t total)
{
	size_t want;
	char *p;

	if (total == SIZE_MAX) {
		errno = ENOMEM;
		return 0;
	}
	total += 1; /* room for the trailing NUL */
	if (sa->s && total <= sa->cap)
		return 1;
	want = total + total / 4 + 16;
	if (want < total)
		want = total;
	p = realloc(sa->s, want);
	if (!p) {
		errno = ENOMEM;
		return 0;
	}
	if (!sa->s)
		sa->len = 0;
	sa->s = p;
	sa->cap = want;
	sa->s[sa->len] = 0;
	return 1;
}

int str_readyplus(struct str *sa, size_t more)
{
	size_t have = sa->s ? sa->len : 0;
	if (more > SIZE_MAX - 1 - have) {
		errno = ENOMEM;
		return 0;
	}
	return str_ready(sa, have + more);
}

int str_catb(struct str *sa, const char *b, size_t n)
{
	if (!str_readyplus(sa, n))
		return 0;
	if (n)
		memmove(sa->s + sa->len, b, n);
	sa->len += n;
	sa->s[sa->len] = 0;
	return 1;
}

int str_cats(struct str *sa, const char *s) { return str_catb(sa, s, strlen(s)); }
int str_catc(struct str *sa, char c) { return str_catb(sa, &c, 1); }

int str_cathex(struct str *sa, const unsigned char *b, size_t n)
{
	size_t i;

	if (n > (SIZE_MAX - 1) / 2 || !str_readyplus(sa, 2 * n))
		return 0;
	for (i = 0; i < n; i++) {
		sa->len += fmt_hexbyte(sa->s + sa->len, b[i]);
	}
	sa->s[sa->len] = 0;
	return 1;
}
int str_cat(struct str *sa, const struct str *t) { return str_catb(sa, t->s ? t->s : "", t->len); }

int str_catu(struct str *sa, unsigned long long u)
{
	char buf[FMT_ULONG];
	return str_catb(sa, buf, fmt_ulong(buf, u));
}

int str_copyb(struct str *sa, const char *b, size_t n)
{
	if (sa->s)
		sa->len = 0;
	return str_catb(sa, b, n);
}

int str_copys(struct str *sa, const char *s) { return str_copyb(sa, s, strlen(s)); }
int str_catz(struct str *sa) { return str_catb(sa, "", 1); }

void str_truncate(struct str *sa, size_t len)
{
	if (sa->s && len < sa->len) {
		sa->len = len;
		sa->s[len] = 0;
	}
}

void str_shrink(struct str *sa)
{
	char *p;

	if (!sa->s || sa->cap == sa->len + 1)
		return;
	p = realloc(sa->s, sa->len + 1);
	if (p) { /* if not, the larger buffer serves as well */
		sa->s = p;
		sa->cap = sa->len + 1;
	}
}

void str_free(struct str *sa)
{
	free(sa->s);
	sa->s = 0;
	sa->len = sa->cap = 0;
}

void str_wipe(struct str *sa)
{
	if (sa->s)
		explicit_bzero(sa->s, sa->cap);
	str_free(sa);
}

int str_equals(const struct str *sa, const char *s)
{
	size_t n = strlen(s);
	return sa->len == n && (n == 0 || memcmp(sa->s, s, n) == 0);
}

int str_starts(const struct str *sa, const char *s)
{
	size_t n = strlen(s);
	return sa->len >= n && (n == 0 || memcmp(sa->s, s, n) == 0);
}
