/* control/smtproutes, in qmail's style: `domain:host[:port]`.  An empty
 * host means "look up the MX as usual", so a line can exempt a domain from
 * a catch-all smarthost (`:relay.example.net` plus `example.org:`).  And
 * control/remotetls, `domain:policy`, whose lines apply as smtproutes's. */
#include <string.h>
#include "remote.h"
#include "addr.h"
#include "case.h"
#include "fmt.h"
#include "idna.h"
#include "utf8.h"

/* 1 ok, 0 malformed */
static int parse_target(const char *s, size_t n, struct route *r)
{
	size_t hl;
	const char *colon;
	unsigned long long port = 25;

	if (n && s[0] == '[') {
		const char *rb = memchr(s, ']', n);
		if (!rb)
			return 0;
		hl = (size_t)(rb - s) + 1;
	} else {
		colon = memchr(s, ':', n);
		hl = colon ? (size_t)(colon - s) : n;
	}
	if (hl < n) {
		if (s[hl] != ':' || !scan_ulong_all(s + hl + 1, n - hl - 1, &port) || port == 0 ||
		    port > 65535)
			return 0;
	}
	if (hl > 255)
		return 0;
	r->host.len = 0;
	if (!str_copyb(&r->host, s, hl))
		return -1;
	r->port = (unsigned)port;
	return 1;
}

/* The line of lines (NUL-separated `key:rest`) that applies to domain, as
 * smtproutes chooses: exact beats any suffix, a longer suffix a shorter
 * one, and the catch-all (empty key) comes last; the first of equals
 * wins.  Lines without ':' are skipped.  The line, its key's length in
 * *kl, or 0 when none applies. */
static const char *line_for(const struct str *lines, const char *domain, size_t dlen, size_t *kl)
{
	const char *best = 0, *p;
	size_t bestscore = 0;

	for (p = lines->s; p && p < lines->s + lines->len; p += strlen(p) + 1) {
		const char *colon = memchr(p, ':', strlen(p));
		size_t k, score = 0;
		if (!colon)
			continue;
		k = (size_t)(colon - p);
		if (k == 0)
			score = 1;
		else if (p[0] == '.') {
			if (dlen > k && case_eqb(domain + dlen - k, k, p, k))
				score = k + 1;
		} else if (case_eqb(domain, dlen, p, k))
			score = (size_t)-1;
		if (score > bestscore) {
			best = p;
			*kl = k;
			bestscore = score;
		}
	}
	return best;
}

int route_find(const struct str *lines, const char *domain, size_t dlen, struct route *r)
{
	size_t kl = 0;
	const char *best;

	r->found = 0;
	r->port = 25;
	r->host.len = 0;
	if (!str_ready(&r->host, 0))
		return -1;
	/* a line without ':' is not a route: ignored, as qmail does */
	best = line_for(lines, domain, dlen, &kl);
	if (!best)
		return 1;
	r->found = 1;
	return parse_target(best + kl + 1, strlen(best) - kl - 1, r);
}

/* A key that could never match ("example.com ", "*.example.com",
 * "example.com.") would leave its domain to the default policy without a
 * word: empty, a domain, or '.' and a domain, nothing else. */
static int policy_key_ok(const char *k, size_t n)
{
	if (n && k[0] == '.') {
		k++;
		n--;
		if (!n)
			return 0;
	}
	return !n || (k[n - 1] != '.' && domain_check(k, n));
}

static const char *const policies[] = { "none", "may", "encrypt", "verify", "dane", "sts", "dane-sts" }; /* enum tls_policy's order */

int tls_policy_find(const struct str *lines, const char *domain, size_t dlen, enum tls_policy *pol,
                    const char **bad)
{
	const char *p, *best;
	size_t kl = 0;

	/* every line is checked, not only the one that applies: a misspelt
	 * policy must not go unseen until mail for its domain goes out in
	 * clear */
	*bad = 0;
	for (p = lines->s; p && p < lines->s + lines->len; p += strlen(p) + 1) {
		const char *colon = memchr(p, ':', strlen(p));
		if (!colon || !policy_key_ok(p, (size_t)(colon - p)) || tls_policy_word(colon + 1) < 0) {
			*bad = p;
			return 0;
		}
	}
	best = line_for(lines, domain, dlen, &kl);
	*pol = best ? (enum tls_policy)tls_policy_word(best + kl + 1) : TLS_MAY;
	return 1;
}

int tls_policy_word(const char *s)
{
	size_t i;
	for (i = 0; i < sizeof policies / sizeof *policies; i++)
		if (strcmp(s, policies[i]) == 0)
			return (int)i;
	return -1;
}

const char *tls_policy_name(enum tls_policy p) { return policies[p]; }

/* The key of each line (before its first ':') that holds UTF-8 becomes
 * its A-labels, a leading '.' kept, so that a line matches a domain
 * written either way: the domain is looked up by its A-labels too
 * (main.c).  A key that is no valid name stays as it is, and matches no
 * name DNS could know.  1 ok, -1 no memory. */
int lines_to_alabels(struct str *lines)
{
	struct str out = STR_INIT, ascii = STR_INIT;
	const char *p;

	if (!lines->s || !utf8_has_high(lines->s, lines->len))
		return 1;
	for (p = lines->s; p < lines->s + lines->len; p += strlen(p) + 1) {
		size_t n = strlen(p), k = strcspn(p, ":"), dot = p[0] == '.';
		int r = k < n && k > dot && utf8_has_high(p, k) ? idna_to_ascii(p + dot, k - dot, &ascii) : IDNA_BAD;
		if (r == IDNA_NOMEM)
			goto nomem;
		if (r == IDNA_OK) {
			if ((dot && !str_catc(&out, '.')) || !str_cat(&out, &ascii) || !str_catb(&out, p + k, n - k + 1))
				goto nomem;
		} else if (!str_catb(&out, p, n + 1)) {
			goto nomem;
		}
	}
	str_free(lines);
	str_free(&ascii);
	*lines = out;
	return 1;
nomem:
	str_free(&out);
	str_free(&ascii);
	return -1;
}
