#include <string.h>
#include "addr.h"
#include "ascii.h"
#include "case.h"

void lowercase(char *s, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		s[i] = (char)ascii_tolower(s[i]);
}

size_t addr_at(const char *a, size_t n)
{
	size_t i = n;
	while (i > 0) {
		i--;
		if (a[i] == '@')
			return i;
	}
	return n;
}

int domain_check(const char *d, size_t n)
{
	size_t i, label = 0;

	if (n == 0 || n > 255)
		return 0;
	if (d[0] == '[') {
		if (n < 3 || d[n - 1] != ']')
			return 0;
		for (i = 1; i + 1 < n; i++) {
			char c = d[i];
			if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
			      c == '.' || c == ':' || c == 'I' || c == 'P' || c == 'v' || c == '6'))
				return 0;
		}
		return 1;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)d[i];
		if (c == '.') {
			if (label == 0)
				return 0;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c >= 0x80))
			return 0;
		if (++label > 63)
			return 0;
	}
	return label > 0;
}

int addr_check(const char *a, size_t n)
{
	size_t at, i;

	if (n > ADDR_MAX)
		return ADDR_TOOLONG;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)a[i];
		if (c < 0x20 || c == 0x7f || c == ' ' || c == '<' || c == '>')
			return ADDR_BAD;
	}
	at = addr_at(a, n);
	if (at == 0 || at >= n)
		return ADDR_BAD;
	if (!domain_check(a + at + 1, n - at - 1))
		return ADDR_BAD;
	return ADDR_OK;
}

int domain_listed(const char *domain, size_t n, const struct str *list)
{
	const char *p;

	if (!list->s)
		return 0;
	for (p = list->s; p < list->s + list->len; p += strlen(p) + 1) {
		size_t m = strlen(p);
		/* ".example.org" matches "a.example.org", not "example.org" */
		if (p[0] == '.' ? n > m && case_eqn(domain + n - m, p, m) : case_eqb(domain, n, p, m))
			return 1;
	}
	return 0;
}
