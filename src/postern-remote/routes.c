/* control/smtproutes, in qmail's style: `domain:host[:port]`.  An empty
 * host means "look up the MX as usual", so a line can exempt a domain from
 * a catch-all smarthost (`:relay.example.net` plus `example.org:`). */
#include <string.h>
#include "remote.h"
#include "case.h"
#include "fmt.h"

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

int route_find(const struct str *lines, const char *domain, size_t dlen, struct route *r)
{
	const char *best = 0;
	size_t bestlen = 0, bestkey = 0, bestscore = 0;
	const char *p;
	int r_;

	r->found = 0;
	r->port = 25;
	r->host.len = 0;
	if (!str_ready(&r->host, 0))
		return -1;
	for (p = lines->s; p && p < lines->s + lines->len; p += strlen(p) + 1) {
		size_t n = strlen(p);
		const char *colon = memchr(p, ':', n);
		size_t kl, score = 0;
		if (!colon)
			continue; /* not a route: ignored, as qmail does */
		kl = (size_t)(colon - p);
		/* exact beats any suffix, a longer suffix a shorter one, and the
		 * catch-all comes last; the first of equals wins */
		if (kl == 0)
			score = 1;
		else if (p[0] == '.') {
			if (dlen > kl && case_eqb(domain + dlen - kl, kl, p, kl))
				score = kl + 1;
		} else if (case_eqb(domain, dlen, p, kl))
			score = (size_t)-1;
		if (score > bestscore) {
			best = p;
			bestlen = n;
			bestkey = kl;
			bestscore = score;
		}
	}
	if (!best)
		return 1;
	r->found = 1;
	r_ = parse_target(best + bestkey + 1, bestlen - bestkey - 1, r);
	return r_;
}
