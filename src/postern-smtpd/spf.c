/* SPF's check_host() (RFC 7208): see spf.h.  Every record is parsed whole
 * before any of it is used (4.6: a syntax error anywhere is permerror),
 * then its mechanisms are tried in order.  Ten terms that look things up
 * (include, a, mx, ptr, exists, redirect) are the most one check may use,
 * and two lookups that find nothing; past either the domain's record is
 * broken (permerror), so a record cannot make us a DNS amplifier. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "ascii.h"
#include "case.h"
#include "dnswire.h"
#include "fmt.h"
#include "spf.h"

#define EXPAND_MAX 1024 /* a domain-spec's expansion kept; only its last 253 bytes are asked */

enum mech { M_ALL, M_INCLUDE, M_A, M_MX, M_PTR, M_IP4, M_IP6, M_EXISTS };

struct term {
	enum mech mech;
	char qualifier;          /* + - ~ ? */
	const char *spec;        /* domain-spec, or NULL: the current domain */
	size_t speclen;
	int cidr4, cidr6;
	unsigned char net[16];
	const char *text;        /* the term as the record has it */
	size_t textlen;
};

struct record {
	struct term *terms;
	size_t n;
	const char *redirect;
	size_t redirectlen;
	const char *exp;
	size_t explen;
};

static int toplabel(const char *s, size_t n);

static const char *const names[] = { "none", "neutral", "pass", "fail", "softfail", "temperror", "permerror" };

const char *spf_result_name(enum spf_result r) { return names[r]; }

static int word_is(const char *s, size_t n, const char *w) { return case_eqb(s, n, w, strlen(w)); }

/* why: a fixed text, then an optional piece of the record (n bytes) */
static enum spf_result say(struct spf_request *r, enum spf_result res, const char *what, const char *b, size_t n)
{
	size_t l = strlen(what), cap = sizeof r->why - 1;

	if (l > cap)
		l = cap;
	memcpy(r->why, what, l);
	if (b) {
		if (n > cap - l)
			n = cap - l;
		memcpy(r->why + l, b, n);
		l += n;
	}
	r->why[l] = 0;
	return res;
}

int spf_identity_ok(const char *s, size_t n)
{
	size_t last;

	if (n && s[n - 1] == '.')
		n--;
	if (!spf_domain_ok(s, n) || memchr(s, '@', n))
		return 0;
	for (last = n; last > 0 && s[last - 1] != '.'; last--)
		;
	return toplabel(s + last, n - last);
}

int spf_domain_ok(const char *s, size_t n)
{
	size_t i, label = 0, labels = 0;

	if (n && s[n - 1] == '.')
		n--;
	if (n == 0 || n > 253)
		return 0;
	for (i = 0; i <= n; i++) {
		if (i == n || s[i] == '.') {
			if (label == 0 || label > 63)
				return 0;
			labels++;
			label = 0;
		} else
			label++;
	}
	return labels >= 2;
}

/* A name a lookup can be made for: labels of 1 to 63 bytes. */
static int askable(const char *s)
{
	size_t n = strlen(s);
	/* target() took one trailing dot off: another is an empty label */
	if (n == 0 || s[n - 1] == '.')
		return 0;
	return spf_domain_ok(s, n) || (memchr(s, '.', n) == 0 && n <= 63);
}

/* The client's address as %{i} spells it: dotted decimal, or 32 nibbles. */
static size_t ip_dotted(const struct spf_request *r, char *out)
{
	size_t o = 0, i;

	if (r->iplen == 4) {
		if (!inet_ntop(AF_INET, r->ip, out, 16))
			return 0;
		return strlen(out);
	}
	for (i = 0; i < 16; i++) {
		out[o++] = fmt_hexdigit(r->ip[i] >> 4);
		out[o++] = '.';
		out[o++] = fmt_hexdigit(r->ip[i]);
		out[o++] = '.';
	}
	out[--o] = 0;
	return o;
}

/* The name a PTR lookup asks: the address reversed under in-addr.arpa or
 * ip6.arpa, as a blocklist's name is made under its zone. */
static void reverse_name(const struct spf_request *r, char *out, size_t cap)
{
	if (dns_reverse_name(out, cap, r->ip, r->iplen, r->iplen == 4 ? "in-addr.arpa" : "ip6.arpa") == -1)
		out[0] = 0; /* cannot happen with cap 80: asks nothing */
}

static int ask(struct spf_request *r, const char *name, unsigned type)
{
	memset(r->scratch, 0, sizeof *r->scratch);
	r->unasked = !askable(name);
	if (r->unasked) {
		/* a name no query can carry has no records; no DNS answer said
		 * so, so it is no void lookup either (4.6.4) */
		r->scratch->status = SPF_DNS_NXDOMAIN;
		return 0;
	}
	return r->lookup(r->ctx, name, type, r->scratch);
}

static int in_net(const unsigned char *ip, const unsigned char *net, int bits)
{
	int i;
	for (i = 0; bits > 0; i++, bits -= 8) {
		unsigned mask = bits >= 8 ? 0xff : (0xff00u >> bits) & 0xff;
		if ((ip[i] & mask) != (net[i] & mask))
			return 0;
	}
	return 1;
}

/* 1 when one of the answer's addresses is the client's within cidr. */
static int addr_match(const struct spf_request *r, const struct spf_answer *a, int cidr)
{
	size_t i;
	for (i = 0; i < a->naddr; i++)
		if (in_net(r->ip, a->addr[i], cidr))
			return 1;
	return 0;
}

static int same_or_under(const char *name, const char *domain)
{
	size_t nl = strlen(name), dl = strlen(domain);

	if (nl && name[nl - 1] == '.')
		nl--;
	if (dl && domain[dl - 1] == '.')
		dl--;
	return nl >= dl && (nl == dl || name[nl - dl - 1] == '.') && case_eqn(name + nl - dl, domain, dl);
}

/* RFC 7208 5.5: the client's names that resolve back to it.  Calls each
 * for every validated name until it returns 1; 0 when none did, -1 when
 * the time ran out. */
static int validated_names(struct spf_request *r, int (*each)(void *, const char *), void *ctx)
{
	char rev[80], ptrs[SPF_PTR_MAX][256];
	size_t n, i;
	unsigned type = r->iplen == 4 ? SPF_T_A : SPF_T_AAAA;

	reverse_name(r, rev, sizeof rev);
	if (ask(r, rev, SPF_T_PTR) == -1)
		return -1;
	if (r->scratch->status != SPF_DNS_OK)
		return 0; /* a DNS error here: the mechanism does not match */
	n = r->scratch->nname < SPF_PTR_MAX ? r->scratch->nname : SPF_PTR_MAX;
	for (i = 0; i < n; i++)
		memcpy(ptrs[i], r->scratch->name[i], sizeof ptrs[i]);
	for (i = 0; i < n; i++) {
		if (ask(r, ptrs[i], type) == -1)
			return -1;
		if (r->scratch->status == SPF_DNS_OK && addr_match(r, r->scratch, r->iplen == 4 ? 32 : 128) &&
		    each(ctx, ptrs[i]))
			return 1;
	}
	return 0;
}

struct pick {
	const char *domain;
	char best[256];
	int rank;
};

/* %{p} (7.3): the domain itself beats a name under it, which beats any
 * other validated name; the search ends at the domain itself. */
static int pick_name(void *ctx, const char *name)
{
	struct pick *p = ctx;
	int rank = same_or_under(name, p->domain) ? 1 + same_or_under(p->domain, name) : 0;

	if (!p->best[0] || rank > p->rank) {
		size_t l = strlen(name);
		memcpy(p->best, name, l + 1);
		p->rank = rank;
	}
	return rank == 2;
}

static int ptr_target(void *ctx, const char *name) { return same_or_under(name, ctx); }

/* The output of a macro expansion: only its last EXPAND_MAX - 1 bytes are
 * kept, since a domain name is cut from the left to fit (7.3). */
struct out {
	char *b;
	size_t len, cap;
};

static void put(struct out *o, char c)
{
	if (!o->b)
		return;
	if (o->len + 1 >= o->cap) {
		size_t drop = o->cap / 2;
		memmove(o->b, o->b + drop, o->len - drop);
		o->len -= drop;
	}
	o->b[o->len++] = c;
}

static int delimiter(unsigned char c) { return c && strchr(".-+,/_=", c) != 0; }

static int unreserved(unsigned char c) { return ascii_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~'; }

/* One %{...} with its letter's value v (vl bytes): split at the
 * delimiters, maybe reversed, the rightmost digits parts, joined by dots,
 * URL-escaped for an upper-case letter. */
static void transform(struct out *o, const char *v, size_t vl, unsigned long keep, int rev, const char *delims,
                      size_t ndelims, int escape)
{
	size_t starts[EXPAND_MAX + 1], lens[EXPAND_MAX + 1], np = 0, i, first;
	size_t start = 0;

	if (vl > EXPAND_MAX)
		vl = EXPAND_MAX;
	for (i = 0; i <= vl; i++) {
		int cut = i == vl;
		if (!cut)
			cut = ndelims ? memchr(delims, v[i], ndelims) != 0 : v[i] == '.';
		if (cut) {
			starts[np] = start;
			lens[np++] = i - start;
			start = i + 1;
		}
	}
	if (rev)
		for (i = 0; i < np / 2; i++) {
			size_t s = starts[i], l = lens[i];
			starts[i] = starts[np - 1 - i];
			lens[i] = lens[np - 1 - i];
			starts[np - 1 - i] = s;
			lens[np - 1 - i] = l;
		}
	first = keep && keep < np ? np - keep : 0;
	for (i = first; i < np; i++) {
		size_t k;
		if (i > first)
			put(o, '.');
		for (k = 0; k < lens[i]; k++) {
			unsigned char c = (unsigned char)v[starts[i] + k];
			if (escape && !unreserved(c)) {
				static const char hex[] = "0123456789ABCDEF";
				put(o, '%');
				put(o, hex[c >> 4]);
				put(o, hex[c & 15]);
			} else
				put(o, (char)c);
		}
	}
}

/* The value of a macro letter (lower case).  %{p} looks names up, and so
 * only when o->b is set: a syntax check asks nothing. */
static int letter_value(struct spf_request *r, const char *domain, unsigned char letter, const struct out *o,
                        char *buf, size_t cap, const char **v, size_t *vl)
{
	const char *at = strrchr(r->sender, '@');

	switch (letter) {
	case 's': *v = r->sender; *vl = strlen(r->sender); return 0;
	case 'l':
		*v = r->sender;
		*vl = at ? (size_t)(at - r->sender) : 0;
		return 0;
	case 'o':
		*v = at ? at + 1 : r->sender;
		*vl = strlen(*v);
		return 0;
	case 'd': *v = domain; *vl = strlen(domain); return 0;
	case 'i': *vl = ip_dotted(r, buf); *v = buf; return 0;
	case 'c':
		if (!inet_ntop(r->iplen == 4 ? AF_INET : AF_INET6, r->ip, buf, (socklen_t)cap))
			buf[0] = 0;
		*v = buf;
		*vl = strlen(buf);
		return 0;
	case 'v': *v = r->iplen == 4 ? "in-addr" : "ip6"; *vl = strlen(*v); return 0;
	case 'h': *v = r->helo; *vl = strlen(r->helo); return 0;
	case 'r': *v = "unknown"; *vl = 7; return 0;
	case 't': {
		unsigned long long t = (unsigned long long)time(0);
		size_t k = cap - 1;
		buf[k] = 0;
		do
			buf[--k] = (char)('0' + t % 10);
		while ((t /= 10) && k);
		*v = buf + k;
		*vl = cap - 1 - k;
		return 0;
	}
	case 'p': {
		/* once for each domain, however many times a record names it:
		 * each is a PTR and up to ten address lookups */
		struct pick p = { domain, "", 0 };
		*v = "unknown";
		*vl = 7;
		if (!o->b)
			return 0;
		if (strcmp(r->p_domain, domain) != 0) {
			if (validated_names(r, pick_name, &p) == -1)
				return -1;
			memcpy(r->p_domain, domain, strlen(domain) + 1);
			memcpy(r->p_name, p.best[0] ? p.best : "unknown", strlen(p.best[0] ? p.best : "unknown") + 1);
		}
		*v = r->p_name;
		*vl = strlen(r->p_name);
		return 0;
	}
	}
	return -1;
}

/* Expands (or, with o->b NULL, only checks) the macro string s.  Returns
 * 0, -1 for a syntax error, -2 when the time ran out; *last_macro says
 * whether it ended in a macro-expand (for domain-end). */
static int expand(struct spf_request *r, const char *domain, const char *s, size_t n, int exp, struct out *o,
                  int *last_macro)
{
	size_t i = 0;

	*last_macro = 0;
	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		if (c != '%') {
			/* an explain-string may hold spaces between its macro strings */
			if (c < (exp ? 0x20 : 0x21) || c > 0x7e)
				return -1;
			put(o, (char)c);
			*last_macro = 0;
			i++;
			continue;
		}
		if (i + 1 == n)
			return -1;
		*last_macro = 1;
		switch (s[i + 1]) {
		case '%': put(o, '%'); i += 2; continue;
		case '_': put(o, ' '); i += 2; continue;
		case '-': put(o, '%'); put(o, '2'); put(o, '0'); i += 2; continue;
		case '{': break;
		default: return -1;
		}
		{
			unsigned char l;
			unsigned long keep = 0;
			int rev = 0, digits = 0;
			const char *delims, *v = 0;
			size_t ndelims, vl = 0;
			char buf[256];
			i += 2;
			if (i == n)
				return -1;
			l = (unsigned char)s[i++];
			if (!strchr(exp ? "slodipvhcrt" : "slodipvh", ascii_tolower(l)) || !l)
				return -1;
			while (i < n && ascii_digit((unsigned char)s[i])) {
				if (keep < 1000)
					keep = keep * 10 + (unsigned long)(s[i] - '0');
				digits = 1;
				i++;
			}
			if (digits && keep == 0)
				return -1;
			if (i < n && ascii_tolower((unsigned char)s[i]) == 'r') {
				rev = 1;
				i++;
			}
			delims = s + i;
			while (i < n && delimiter((unsigned char)s[i]))
				i++;
			ndelims = (size_t)(s + i - delims);
			if (i == n || s[i] != '}')
				return -1;
			i++;
			if (letter_value(r, domain, ascii_tolower(l), o, buf, sizeof buf, &v, &vl) == -1)
				return -2;
			transform(o, v, vl, keep, rev, delims, ndelims, ascii_alpha(l) && l < 'a');
		}
	}
	return 0;
}

int spf_expand(struct spf_request *r, const char *domain, const char *s, size_t n, int exp, char *out, size_t cap)
{
	struct out o = { out, 0, cap };
	int last;

	if (cap < 2 || expand(r, domain, s, n, exp, &o, &last) != 0)
		return -1;
	out[o.len] = 0;
	return 0;
}

/* toplabel (RFC 7208 7.1): letters, digits and hyphens, not starting or
 * ending with a hyphen, and not all digits. */
static int toplabel(const char *s, size_t n)
{
	size_t i;
	int letter = 0, hyphen = 0;

	if (n == 0 || !ascii_alnum((unsigned char)s[0]) || !ascii_alnum((unsigned char)s[n - 1]))
		return 0;
	for (i = 0; i < n; i++) {
		if (s[i] == '-')
			hyphen = 1;
		else if (ascii_alpha((unsigned char)s[i]))
			letter = 1;
		else if (!ascii_digit((unsigned char)s[i]))
			return 0;
	}
	return letter || hyphen;
}

/* domain-spec: a macro string ending in a macro or in "." toplabel ["."] */
static int domain_spec_ok(struct spf_request *r, const char *s, size_t n)
{
	struct out none = { 0, 0, 0 };
	size_t end = n, dot;
	int last;

	if (n == 0 || expand(r, "", s, n, 0, &none, &last) != 0)
		return 0;
	if (last)
		return 1;
	if (s[end - 1] == '.')
		end--;
	for (dot = end; dot > 0 && s[dot - 1] != '.'; dot--)
		if (s[dot - 1] == '}' || s[dot - 1] == '%')
			return 0;
	return dot > 0 && toplabel(s + dot, end - dot);
}

/* A CIDR length: digits, no leading zero, at most max. */
static int cidr(const char *s, size_t n, int max)
{
	int v = 0;
	size_t i;

	if (n == 0 || n > 3 || (n > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < n; i++) {
		if (!ascii_digit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v <= max ? v : -1;
}

/* The trailing "/N" and "//N" of an a or mx: cut off *n. */
static int dual_cidr(const char *s, size_t *n, struct term *t)
{
	size_t e = *n, d = e;

	while (d > 0 && ascii_digit((unsigned char)s[d - 1]))
		d--;
	if (d >= 2 && d < e && s[d - 1] == '/' && s[d - 2] == '/') {
		if ((t->cidr6 = cidr(s + d, e - d, 128)) == -1)
			return -1;
		e = d - 2;
		for (d = e; d > 0 && ascii_digit((unsigned char)s[d - 1]); d--)
			;
	}
	if (d >= 1 && d < e && s[d - 1] == '/') {
		if ((t->cidr4 = cidr(s + d, e - d, 32)) == -1)
			return -1;
		e = d - 1;
	}
	*n = e;
	return 0;
}

/* "ip4:ADDR[/N]" or "ip6:ADDR[/N]", s the part after the colon. */
static int network(const char *s, size_t n, struct term *t)
{
	char addr[64];
	const char *slash = memchr(s, '/', n);
	size_t al = slash ? (size_t)(slash - s) : n;
	int max = t->mech == M_IP4 ? 32 : 128, bits = max;

	if (al == 0 || al >= sizeof addr)
		return -1;
	memcpy(addr, s, al);
	addr[al] = 0;
	if (inet_pton(t->mech == M_IP4 ? AF_INET : AF_INET6, addr, t->net) != 1)
		return -1;
	if (slash && (bits = cidr(slash + 1, n - al - 1, max)) == -1)
		return -1;
	if (t->mech == M_IP4)
		t->cidr4 = bits;
	else
		t->cidr6 = bits;
	return 0;
}

static const struct {
	const char *name;
	enum mech mech;
} mechs[] = { { "all", M_ALL }, { "include", M_INCLUDE }, { "a", M_A }, { "mx", M_MX },
	      { "ptr", M_PTR }, { "ip4", M_IP4 }, { "ip6", M_IP6 }, { "exists", M_EXISTS } };

/* ":domain-spec", the n bytes at a, as t's target */
static int spec(struct spf_request *r, const char *a, size_t n, struct term *t)
{
	if (n < 2 || a[0] != ':' || !domain_spec_ok(r, a + 1, n - 1))
		return -1;
	t->spec = a + 1;
	t->speclen = n - 1;
	return 0;
}

static int directive(struct spf_request *r, const char *s, size_t n, struct term *t)
{
	size_t k = 0, i, rest;
	const char *a;

	t->qualifier = '+';
	if (n && strchr("+-~?", s[0])) {
		t->qualifier = s[0];
		s++;
		n--;
	}
	while (k < n && ascii_alnum((unsigned char)s[k]))
		k++;
	for (i = 0; i < sizeof mechs / sizeof mechs[0]; i++)
		if (word_is(s, k, mechs[i].name))
			break;
	if (i == sizeof mechs / sizeof mechs[0])
		return -1;
	t->mech = mechs[i].mech;
	t->cidr4 = 32;
	t->cidr6 = 128;
	a = s + k;
	rest = n - k;
	switch (t->mech) {
	case M_ALL: return rest ? -1 : 0;
	case M_INCLUDE:
	case M_EXISTS:
		return spec(r, a, rest, t);
	case M_A:
	case M_MX:
		if (dual_cidr(a, &rest, t) == -1)
			return -1;
		/* fall through */
	case M_PTR:
		return rest == 0 ? 0 : spec(r, a, rest, t);
	case M_IP4:
	case M_IP6:
		if (rest < 2 || a[0] != ':')
			return -1;
		return network(a + 1, rest - 1, t);
	}
	return -1;
}

/* The terms after "v=spf1": every one checked before any is used. */
static enum spf_result parse(struct spf_request *r, const char *rec, size_t len, struct record *p)
{
	size_t i, nterms = 0;
	int seen_exp = 0;

	for (i = 0; i < len; i++)
		if ((unsigned char)rec[i] < 0x20 || (unsigned char)rec[i] > 0x7e)
			return say(r, SPF_PERMERROR, "record has a byte that is not printable ASCII", 0, 0);
	for (i = 6; i < len; i++)
		if (rec[i] == ' ' && i + 1 < len && rec[i + 1] != ' ')
			nterms++;
	if (!(p->terms = calloc(nterms + 1, sizeof *p->terms)))
		return say(r, SPF_TEMPERROR, "out of memory", 0, 0);
	p->n = 0;
	p->redirect = 0;
	p->exp = 0;
	i = 6;
	while (i < len) {
		const char *t;
		size_t tl = 0, k = 0;
		while (i < len && rec[i] == ' ')
			i++;
		if (i == len)
			break;
		t = rec + i;
		while (i < len && rec[i] != ' ')
			i++, tl++;
		while (k < tl && (ascii_alnum((unsigned char)t[k]) || t[k] == '-' || t[k] == '_' || t[k] == '.'))
			k++;
		if (k && k < tl && t[k] == '=' && ascii_alpha((unsigned char)t[0])) {
			/* a modifier; unknown ones are let be (6) */
			int redirect = word_is(t, k, "redirect"), exp = word_is(t, k, "exp");
			if ((redirect || exp) ? !domain_spec_ok(r, t + k + 1, tl - k - 1)
			                      : expand(r, "", t + k + 1, tl - k - 1, 0, &(struct out){ 0, 0, 0 }, &(int){ 0 }) != 0)
				return say(r, SPF_PERMERROR, "syntax error at ", t, tl);
			if ((redirect && p->redirect) || (exp && seen_exp))
				return say(r, SPF_PERMERROR, "repeated modifier ", t, k);
			if (redirect) {
				p->redirect = t + k + 1;
				p->redirectlen = tl - k - 1;
			} else if (exp) {
				p->exp = t + k + 1;
				p->explen = tl - k - 1;
			}
			seen_exp |= exp;
			continue;
		}
		if (p->n == nterms || directive(r, t, tl, &p->terms[p->n]) == -1)
			return say(r, SPF_PERMERROR, "syntax error at ", t, tl);
		p->terms[p->n].text = t;
		p->terms[p->n++].textlen = tl;
	}
	return SPF_NONE;
}

static enum spf_result check_host(struct spf_request *r, const char *domain);

/* A domain-spec expanded for a lookup (or the current domain); -1 when
 * the time ran out. */
static int target(struct spf_request *r, const char *domain, const char *spec, size_t n, char *out)
{
	char big[EXPAND_MAX];
	struct out o = { big, 0, sizeof big };
	size_t start = 0, len;
	int last;

	if (!spec) {
		memcpy(out, domain, strlen(domain) + 1);
		return 0;
	}
	if (expand(r, domain, spec, n, 0, &o, &last) == -2)
		return -1;
	len = o.len;
	if (len && big[len - 1] == '.')
		len--;
	/* over 253 bytes: labels dropped from the left (7.3) */
	while (len - start > 253) {
		char *dot = memchr(big + start, '.', len - start);
		start = dot ? (size_t)(dot - big) + 1 : len;
	}
	memcpy(out, big + start, len - start);
	out[len - start] = 0;
	return 0;
}

static int counted(struct spf_request *r) { return ++r->lookups <= SPF_LOOKUPS_MAX; }

/* A lookup that found no records: void (4.6.4); 0 when one too many. */
static int void_ok(struct spf_request *r)
{
	const struct spf_answer *a = r->scratch;
	if (r->unasked)
		return 1;
	if (a->status == SPF_DNS_NXDOMAIN || (a->status == SPF_DNS_OK && a->n == 0))
		return ++r->voids <= SPF_VOIDS_MAX;
	return 1;
}

#define OUT_OF_TIME(r) say(r, SPF_TEMPERROR, "out of time for the whole check", 0, 0)

/* Whether term t matches: 1, 0, or an error result as -1 with *res set. */
static int matches(struct spf_request *r, const char *domain, const struct term *t, enum spf_result *res)
{
	char name[256];
	unsigned type = r->iplen == 4 ? SPF_T_A : SPF_T_AAAA;
	int bits = r->iplen == 4 ? t->cidr4 : t->cidr6;

	switch (t->mech) {
	case M_ALL: return 1;
	case M_IP4: return r->iplen == 4 && in_net(r->ip, t->net, t->cidr4);
	case M_IP6: return r->iplen == 16 && in_net(r->ip, t->net, t->cidr6);
	default: break;
	}
	if (!counted(r)) {
		*res = say(r, SPF_PERMERROR, "more than 10 DNS lookups, at ", t->text, t->textlen);
		return -1;
	}
	if (target(r, domain, t->spec, t->speclen, name) == -1) {
		*res = OUT_OF_TIME(r);
		return -1;
	}
	switch (t->mech) {
	case M_INCLUDE: {
		enum spf_result inner;
		r->includes++;
		inner = check_host(r, name);
		r->includes--;
		if (inner == SPF_PASS)
			return 1;
		if (inner == SPF_FAIL || inner == SPF_SOFTFAIL || inner == SPF_NEUTRAL)
			return 0;
		*res = inner == SPF_NONE ? SPF_PERMERROR : inner;
		if (inner == SPF_NONE)
			say(r, SPF_PERMERROR, "included domain has no SPF record: ", t->text, t->textlen);
		return -1;
	}
	case M_EXISTS:
	case M_A:
		/* exists asks for A records whatever the client's address */
		if (ask(r, name, t->mech == M_EXISTS ? SPF_T_A : type) == -1) {
			*res = OUT_OF_TIME(r);
			return -1;
		}
		break;
	case M_MX: {
		char mx[SPF_MX_MAX][256];
		size_t n, i;
		if (ask(r, name, SPF_T_MX) == -1) {
			*res = OUT_OF_TIME(r);
			return -1;
		}
		if (r->scratch->status == SPF_DNS_ERROR)
			break;
		if (!void_ok(r)) {
			*res = say(r, SPF_PERMERROR, "more than 2 lookups found nothing, at ", t->text, t->textlen);
			return -1;
		}
		if (r->scratch->n > SPF_MX_MAX) { /* names left out for their bytes count too */
			*res = say(r, SPF_PERMERROR, "more than 10 MX names, at ", t->text, t->textlen);
			return -1;
		}
		n = r->scratch->nname;
		for (i = 0; i < n; i++)
			memcpy(mx[i], r->scratch->name[i], sizeof mx[i]);
		for (i = 0; i < n; i++) {
			if (!mx[i][0])
				continue; /* a null MX: no host */
			if (ask(r, mx[i], type) == -1) {
				*res = OUT_OF_TIME(r);
				return -1;
			}
			if (r->scratch->status == SPF_DNS_ERROR)
				break;
			if (r->scratch->status == SPF_DNS_OK && addr_match(r, r->scratch, bits))
				return 1;
		}
		if (i == n)
			return 0;
		break;
	}
	case M_PTR: {
		int v = validated_names(r, ptr_target, name);
		if (v == -1) {
			*res = OUT_OF_TIME(r);
			return -1;
		}
		return v;
	}
	default: return 0;
	}
	if (r->scratch->status == SPF_DNS_ERROR) {
		*res = say(r, SPF_TEMPERROR, "DNS lookup failed, at ", t->text, t->textlen);
		return -1;
	}
	if (!void_ok(r)) {
		*res = say(r, SPF_PERMERROR, "more than 2 lookups found nothing, at ", t->text, t->textlen);
		return -1;
	}
	if (r->scratch->status != SPF_DNS_OK)
		return 0;
	if (t->mech == M_EXISTS)
		return r->scratch->naddr > 0;
	return addr_match(r, r->scratch, bits);
}

static enum spf_result qualified(char q)
{
	switch (q) {
	case '-': return SPF_FAIL;
	case '~': return SPF_SOFTFAIL;
	case '?': return SPF_NEUTRAL;
	}
	return SPF_PASS;
}

static enum spf_result evaluate(struct spf_request *r, const char *domain, const struct record *p)
{
	char name[256];
	enum spf_result res = SPF_NEUTRAL;
	size_t i;

	for (i = 0; i < p->n; i++) {
		int m = matches(r, domain, &p->terms[i], &res);
		if (m == -1)
			return res;
		if (m == 1 && p->terms[i].qualifier == '-' && !r->includes) {
			/* the failing record's own exp=, never an earlier one a
			 * redirect left, nor an included record's (6.2) */
			r->exp_spec[0] = 0;
			if (p->exp && p->explen < sizeof r->exp_spec) {
				memcpy(r->exp_spec, p->exp, p->explen);
				r->exp_spec[p->explen] = 0;
				memcpy(r->exp_domain, domain, strlen(domain) + 1);
			}
		}
		if (m == 1)
			return say(r, qualified(p->terms[i].qualifier), "matched ", p->terms[i].text,
			           p->terms[i].textlen);
	}
	if (!p->redirect)
		return say(r, SPF_NEUTRAL, "no term matched", 0, 0);
	if (!counted(r))
		return say(r, SPF_PERMERROR, "more than 10 DNS lookups, at redirect", 0, 0);
	if (target(r, domain, p->redirect, p->redirectlen, name) == -1)
		return OUT_OF_TIME(r);
	res = check_host(r, name);
	if (res == SPF_NONE)
		return say(r, SPF_PERMERROR, "redirect to a domain without an SPF record: ", name, strlen(name));
	return res;
}

static enum spf_result check_host(struct spf_request *r, const char *domain)
{
	char rec[SPF_RECORD_MAX + 1];
	struct record p = { 0, 0, 0, 0, 0, 0 };
	enum spf_result res;
	size_t len;

	if (!spf_domain_ok(domain, strlen(domain)))
		return say(r, SPF_NONE, "not a domain SPF can check: ", domain, strlen(domain));
	if (r->lookup(r->ctx, domain, SPF_T_TXT, (memset(r->scratch, 0, sizeof *r->scratch), r->scratch)) == -1)
		return OUT_OF_TIME(r);
	if (r->scratch->status == SPF_DNS_ERROR)
		return say(r, SPF_TEMPERROR, "unable to look up the SPF record of ", domain, strlen(domain));
	if (r->scratch->status == SPF_DNS_NXDOMAIN || r->scratch->nspf == 0)
		return say(r, SPF_NONE, "no SPF record for ", domain, strlen(domain));
	if (r->scratch->nspf > 1)
		return say(r, SPF_PERMERROR, "more than one SPF record for ", domain, strlen(domain));
	if (r->scratch->spf_toolong)
		return say(r, SPF_PERMERROR, "SPF record over 4095 bytes for ", domain, strlen(domain));
	len = r->scratch->spflen;
	memcpy(rec, r->scratch->spf, len);
	rec[len] = 0;
	if ((res = parse(r, rec, len, &p)) == SPF_NONE)
		res = evaluate(r, domain, &p);
	free(p.terms);
	return res;
}

/* The fail's explanation (6.2): exp='s domain-spec expanded, its one TXT
 * record expanded with c, r and t allowed.  Anything amiss: none. */
static void explain(struct spf_request *r)
{
	char name[256], text[SPF_RECORD_MAX + 1], big[EXPAND_MAX];
	size_t len, i;

	if (target(r, r->exp_domain, r->exp_spec, strlen(r->exp_spec), name) == -1 ||
	    !spf_domain_ok(name, strlen(name)))
		return;
	memset(r->scratch, 0, sizeof *r->scratch);
	if (r->lookup(r->ctx, name, SPF_T_EXP, r->scratch) == -1 || r->scratch->status != SPF_DNS_OK ||
	    r->scratch->nspf != 1 || r->scratch->spf_toolong)
		return;
	len = r->scratch->spflen;
	memcpy(text, r->scratch->spf, len);
	text[len] = 0;
	if (spf_expand(r, r->exp_domain, text, len, 1, big, sizeof big) != 0)
		return;
	/* it goes into an SMTP reply: a stranger's text, printable or nothing */
	for (i = 0; big[i]; i++)
		if ((unsigned char)big[i] < 0x20 || (unsigned char)big[i] > 0x7e)
			return;
	if (i > SPF_EXPLANATION_MAX)
		i = SPF_EXPLANATION_MAX;
	memcpy(r->explanation, big, i);
	r->explanation[i] = 0;
}

enum spf_result spf_check(struct spf_request *r)
{
	static struct spf_answer scratch;
	const char *given = r->sender, *at = strrchr(given, '@');
	char sender[600];
	const char *domain = at ? at + 1 : r->sender;
	enum spf_result res;

	r->lookups = r->voids = 0;
	r->scratch = &scratch;
	r->p_domain[0] = 0;
	r->why[0] = 0;
	r->includes = 0;
	r->exp_spec[0] = r->explanation[0] = 0;
	/* no local part: postmaster's (4.3) */
	if (at == r->sender && strlen(r->sender) + 10 < sizeof sender) {
		memcpy(sender, "postmaster", 10);
		memcpy(sender + 10, r->sender, strlen(r->sender) + 1);
		r->sender = sender;
		domain = sender + 11;
	}
	if (domain[0] == '[' || !spf_domain_ok(domain, strlen(domain)))
		res = say(r, SPF_NONE, "not a domain SPF can check: ", domain, strlen(domain));
	else {
		char d[256];
		size_t dl = strlen(domain);
		if (domain[dl - 1] == '.')
			dl--;
		memcpy(d, domain, dl);
		d[dl] = 0;
		res = check_host(r, d);
		if (res == SPF_FAIL && r->exp_spec[0] && r->explain)
			explain(r);
	}
	r->sender = given;
	return res;
}
