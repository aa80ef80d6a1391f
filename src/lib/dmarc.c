/* DMARC without the DNS (dmarc.h): the policy record read as hostile
 * text, the names of the DNS Tree Walk, the Organizational Domain from
 * the answers to them, alignment, the verdict and its clause of the
 * Authentication-Results field.
 *
 * The record is a tag list as DKIM's (RFC 7489 6.3, RFC 6376 3.2), read
 * strictly: a list a careful publisher would not write is no record,
 * rather than half understood.  What the tags say is read leniently, as
 * RFC 9989 4.7 asks: a bad value is as if the tag were absent.
 *
 * Every name asked of a lookup is one of a walk's, in lower case; the
 * answers are the caller's, and nothing of them is kept past a call. */
#include <string.h>
#include "dmarc.h"
#include "ascii.h"
#include "case.h"
#include "dkim.h"
#include "taglist.h"

#define WALK_CUT 7   /* labels a long name is cut to at once (RFC 9989 4.10.1) */
#define PCT_DIGITS 3 /* pct= is 1*3DIGIT (RFC 7489 6.4) */

static int is(const char *p, size_t n, const char *s) { return case_eqb(p, n, s, strlen(s)); }

/* The values: each case aside (ABNF's quoted strings), 0 when it is one
 * the tag may have, -1 when not (the tag then counts as absent). */
static int policy_value(const char *v, size_t n, enum dmarc_policy *p)
{
	if (is(v, n, "none"))
		*p = DMARC_P_NONE;
	else if (is(v, n, "quarantine"))
		*p = DMARC_P_QUARANTINE;
	else if (is(v, n, "reject"))
		*p = DMARC_P_REJECT;
	else
		return -1;
	return 0;
}

/* one letter of choices, case aside: its lower case, or 0 */
static char letter_value(const char *v, size_t n, const char *choices)
{
	char c;

	if (n != 1)
		return 0;
	c = (char)ascii_tolower(v[0]);
	return c && strchr(choices, c) ? c : 0;
}

/* pct=: 0 to 100 in at most 3 digits, else -1 (ignored) */
static int pct_value(const char *v, size_t n, unsigned *pct)
{
	size_t i;
	unsigned u = 0;

	if (n == 0 || n > PCT_DIGITS)
		return -1;
	for (i = 0; i < n; i++) {
		if (!ascii_digit(v[i]))
			return -1;
		u = u * 10 + (unsigned)(v[i] - '0');
	}
	if (u > 100)
		return -1;
	*pct = u;
	return 0;
}

enum { R_P, R_SP, R_NP, R_ADKIM, R_ASPF, R_PSD, R_T, R_PCT, R_N };
static const char *const record_names[R_N] = { "p", "sp", "np", "adkim", "aspf", "psd", "t", "pct" };

int dmarc_record_parse(const char *txt, size_t n, struct dmarc_record *r)
{
	struct tag t, k[R_N];
	int seen[R_N] = { 0 };
	size_t i, j;
	unsigned pct;
	char c;

	memset(r, 0, sizeof *r);
	r->psd = 'u';
	if (!txt)
		return -1;
	/* the first tag: v=DMARC1, the name and the value as they stand
	 * (%x44.4d.41.52.43.31 in RFC 7489 6.4's grammar) */
	i = tag_skip(txt, n, 0, tag_wsp);
	if (tag_spec(txt, n, &i, &t, tag_wsp) || t.namelen != 1 || txt[t.name] != 'v' || t.vallen != 6 ||
	    memcmp(txt + t.val, "DMARC1", 6) != 0)
		return -1;
	/* the rest: the whole list is read before any of it counts, so that
	 * a broken tag anywhere makes it no record; a tag twice, the first */
	while (i < n) {
		i = tag_skip(txt, n, i + 1, tag_wsp); /* past the ';' */
		if (i == n)
			break; /* a ';' may end the list */
		if (tag_spec(txt, n, &i, &t, tag_wsp))
			return -1;
		for (j = 0; j < R_N; j++)
			if (!seen[j] && t.namelen == strlen(record_names[j]) &&
			    memcmp(txt + t.name, record_names[j], t.namelen) == 0) {
				k[j] = t;
				seen[j] = 1;
			}
	}

	/* what the tags say: a bad value as no tag */
	r->p = DMARC_P_NONE;
	if (seen[R_P] && policy_value(txt + k[R_P].val, k[R_P].vallen, &r->p))
		r->p = DMARC_P_NONE;
	if (seen[R_SP])
		r->has_sp = policy_value(txt + k[R_SP].val, k[R_SP].vallen, &r->sp) == 0;
	if (seen[R_NP])
		r->has_np = policy_value(txt + k[R_NP].val, k[R_NP].vallen, &r->np) == 0;
	if (!r->has_sp)
		r->sp = DMARC_P_NONE;
	if (!r->has_np)
		r->np = DMARC_P_NONE;
	if (seen[R_ADKIM])
		r->adkim_strict = letter_value(txt + k[R_ADKIM].val, k[R_ADKIM].vallen, "rs") == 's';
	if (seen[R_ASPF])
		r->aspf_strict = letter_value(txt + k[R_ASPF].val, k[R_ASPF].vallen, "rs") == 's';
	if (seen[R_PSD] && (c = letter_value(txt + k[R_PSD].val, k[R_PSD].vallen, "ynu")) != 0)
		r->psd = c;
	/* t= is RFC 9989's word for what pct= (gone from it) meant: a t= that
	 * reads as y or n says it, and pct= below 100 stands in for none */
	c = seen[R_T] ? letter_value(txt + k[R_T].val, k[R_T].vallen, "yn") : 0;
	if (c)
		r->testing = c == 'y';
	else if (seen[R_PCT] && pct_value(txt + k[R_PCT].val, k[R_PCT].vallen, &pct) == 0)
		r->testing = pct < 100;
	return 0;
}

/* The offset in d (n bytes, labels) of its last k labels, k at least 1
 * and at most d's count of labels. */
static size_t suffix(const char *d, size_t n, size_t k)
{
	size_t i = n;

	while (i > 0) {
		if (d[i - 1] == '.' && --k == 0)
			break;
		i--;
	}
	return i;
}

static size_t labels(const char *d, size_t n)
{
	size_t i, k = 1;

	for (i = 0; i < n; i++)
		if (d[i] == '.')
			k++;
	return k;
}

/* The domain as dmarc_walk takes it, lower case, into out (DMARC_NAME_MAX
 * + 1 bytes): its length, or 0 when it is none. */
static size_t take_name(const char *domain, char *out)
{
	size_t n, i, last;

	if (!domain)
		return 0;
	n = strnlen(domain, DMARC_NAME_MAX + 1);
	if (n > DMARC_NAME_MAX || !dkim_name_ok(domain, n))
		return 0;
	for (last = suffix(domain, n, 1), i = last; i < n && ascii_digit(domain[i]); i++)
		;
	if (i == n)
		return 0; /* 192.0.2.1: an address, not a name */
	for (i = 0; i < n; i++)
		out[i] = (char)ascii_tolower(domain[i]);
	out[n] = 0;
	return n;
}

size_t dmarc_walk(const char *domain, char names[][DMARC_NAME_MAX + 1])
{
	char d[DMARC_NAME_MAX + 1];
	size_t n = take_name(domain, d), k, count = 0, at;

	if (n == 0)
		return 0;
	memcpy(names[count++], d, n + 1);
	k = labels(d, n);
	/* the domain, then 7 labels at once from 8 or more, then one less
	 * each time, down to the top-level name */
	for (k = k > WALK_CUT ? WALK_CUT : k - 1; k > 0 && count < DMARC_WALK_MAX; k--) {
		at = suffix(d, n, k);
		memcpy(names[count++], d + at, n - at + 1);
	}
	return count;
}

/* What lookup says of name: a failure unless a plain none or a record
 * (NULL, an answer we do not know). */
static const struct dmarc_step *ask(dmarc_lookup lookup, void *ctx, const char *name, enum dmarc_answer *a)
{
	const struct dmarc_step *s = lookup(ctx, name);

	if (!s || (s->a != DMARC_A_NONE && s->a != DMARC_A_RECORD))
		*a = DMARC_A_TEMPFAIL;
	else
		*a = s->a;
	return s;
}

/* The answer is the first psd=n or psd=y from the domain up, else the
 * record with the fewest labels, else the domain: worked out with a
 * failed lookup as no record, then asked whether that lookup could have
 * changed it.  A failure anywhere but at the domain itself can: a psd=n
 * there would give that name, a psd=y the name one label longer, and
 * the two differ.  A failure at the domain itself cannot change an
 * answer that is the domain (a psd=n or psd=y there gives the domain,
 * and so does a plain record when nothing further up decides), and can
 * change any other. */
int dmarc_org_domain(const char *domain, dmarc_lookup lookup, void *ctx, char *out)
{
	char names[DMARC_WALK_MAX][DMARC_NAME_MAX + 1];
	size_t nn = dmarc_walk(domain, names), i, len, at = 0;
	int self_failed = 0;
	enum dmarc_answer a;

	out[0] = 0;
	if (nn == 0)
		return -1;
	len = strlen(names[0]);
	for (i = 0; i < nn; i++) {
		const struct dmarc_step *s = ask(lookup, ctx, names[i], &a);
		if (a == DMARC_A_TEMPFAIL) {
			if (i > 0)
				return -1;
			self_failed = 1;
			continue;
		}
		if (a == DMARC_A_NONE)
			continue;
		at = len - strlen(names[i]); /* names[i] is the domain's end */
		if (s->r.psd == 'n')
			break;
		if (s->r.psd == 'y') {
			/* one label longer, within the domain as i > 0; on the
			 * domain itself, the domain */
			if (i > 0)
				at = suffix(names[0], len, labels(names[i], strlen(names[i])) + 1);
			break;
		}
		/* a plain record: the walk goes on; the last has the fewest labels */
	}
	if (self_failed && at != 0)
		return -1;
	memcpy(out, names[0] + at, len - at + 1);
	return 0;
}

/* whether a and b are the same name, case aside; NULL is no name */
static int same(const char *a, const char *b)
{
	size_t an, bn;

	if (!a || !b)
		return 0;
	an = strnlen(a, DMARC_NAME_MAX + 1);
	bn = strnlen(b, DMARC_NAME_MAX + 1);
	return an <= DMARC_NAME_MAX && case_eqb(a, an, b, bn);
}

/* from's Organizational Domain, asked at most once a verdict (ok: it is
 * known, not failed). */
struct org {
	int asked, ok;
	char name[DMARC_NAME_MAX + 1];
};

/* Whether id aligns with from: 1, 0, or -1 when a lookup that could
 * decide it failed. */
static int aligned(const char *from, const char *id, int strict, struct org *o, dmarc_lookup lookup, void *ctx)
{
	char idorg[DMARC_NAME_MAX + 1];

	if (same(from, id))
		return 1; /* strictly, so relaxed too: nothing to ask */
	/* an identifier that is no name aligns with nothing, and is no
	 * failure */
	if (strict || take_name(id, idorg) == 0)
		return 0;
	if (!o->asked) {
		o->asked = 1;
		o->ok = dmarc_org_domain(from, lookup, ctx, o->name) == 0;
	}
	if (!o->ok)
		return -1;
	if (dmarc_org_domain(id, lookup, ctx, idorg))
		return -1;
	return strcmp(o->name, idorg) == 0;
}

void dmarc_evaluate(const struct dmarc_input *in, dmarc_lookup lookup, void *ctx, struct dmarc_verdict *v)
{
	char names[DMARC_WALK_MAX][DMARC_NAME_MAX + 1];
	const struct dmarc_step *s = 0;
	struct org o;
	size_t nn = dmarc_walk(in->from, names), i;
	enum dmarc_answer a = DMARC_A_NONE;
	int failed = 0, r;

	memset(v, 0, sizeof *v);
	memset(&o, 0, sizeof o);
	v->result = "none";
	v->policy = DMARC_P_NONE;
	/* the policy: the first record of the walk */
	for (i = 0; i < nn; i++) {
		s = ask(lookup, ctx, names[i], &a);
		if (a != DMARC_A_NONE)
			break;
	}
	if (i == nn)
		return;
	if (a == DMARC_A_TEMPFAIL) {
		v->result = "temperror";
		return;
	}
	memcpy(v->policy_domain, names[i], strlen(names[i]) + 1);
	/* RFC 9989 4.7: np= for a From domain that does not exist, else
	 * sp=, else p= */
	if (i == 0)
		v->policy = s->r.p;
	else if (in->from_nxdomain && s->r.has_np)
		v->policy = s->r.np;
	else
		v->policy = s->r.has_sp ? s->r.sp : s->r.p;
	v->testing = s->r.testing;

	/* alignment: DKIM's first, then SPF's; the first that aligns */
	for (i = 0; in->dkim_pass && i < in->ndkim; i++) {
		r = aligned(names[0], in->dkim_pass[i], s->r.adkim_strict, &o, lookup, ctx);
		if (r > 0) {
			v->result = "pass";
			v->aligned = "dkim";
			return;
		}
		failed |= r < 0;
	}
	if (in->spf_domain && in->spf_pass) {
		r = aligned(names[0], in->spf_domain, s->r.aspf_strict, &o, lookup, ctx);
		if (r > 0) {
			v->result = "pass";
			v->aligned = "spf";
			return;
		}
		failed |= r < 0;
	}
	v->result = failed ? "temperror" : "fail";
}

/* The names of domain's walk not among names[0..*n) yet, appended while
 * there is room (max in all). */
static void add_walk(const char *domain, char names[][DMARC_NAME_MAX + 1], size_t max, size_t *n)
{
	char w[DMARC_WALK_MAX][DMARC_NAME_MAX + 1];
	size_t nw = dmarc_walk(domain, w), i, j;

	for (i = 0; i < nw; i++) {
		for (j = 0; j < *n && strncmp(names[j], w[i], DMARC_NAME_MAX + 1) != 0; j++)
			;
		if (j < *n)
			continue;
		if (*n >= max)
			return;
		memcpy(names[(*n)++], w[i], strlen(w[i]) + 1);
	}
}

void dmarc_names(const struct dmarc_input *in, char names[][DMARC_NAME_MAX + 1], size_t max, size_t *n)
{
	size_t i;

	if (*n > max)
		return; /* the caller's count past its own room: nothing is sure */
	add_walk(in->from, names, max, n);
	for (i = 0; in->dkim_pass && i < in->ndkim; i++)
		add_walk(in->dkim_pass[i], names, max, n);
	if (in->spf_domain && in->spf_pass)
		add_walk(in->spf_domain, names, max, n);
}

const char *dmarc_policy_name(enum dmarc_policy p)
{
	switch (p) {
	case DMARC_P_QUARANTINE:
		return "quarantine";
	case DMARC_P_REJECT:
		return "reject";
	default:
		return "none";
	}
}

int dmarc_ar_clause(struct str *out, const struct dmarc_verdict *v, const char *from, const char *dis)
{
	static const char *const results[] = { "pass", "fail", "none", "temperror" };
	size_t i, fn = from ? strnlen(from, DMARC_NAME_MAX + 1) : 0;

	/* words of ours, or a caller's bug: refused rather than written */
	for (i = 0; i < 4 && !(v->result && !strcmp(v->result, results[i])); i++)
		;
	if (i == 4 || !dis || (strcmp(dis, "none") && strcmp(dis, "quarantine") && strcmp(dis, "reject")) ||
	    !memchr(v->policy_domain, 0, sizeof v->policy_domain))
		return -1;
	if (!str_cats(out, "dmarc=") || !str_cats(out, v->result))
		return -1;
	if (v->policy_domain[0] && (!str_cats(out, " (p=") || !str_cats(out, dmarc_policy_name(v->policy)) ||
	                            !str_cats(out, " dis=") || !str_cats(out, dis) || !str_catc(out, ')')))
		return -1;
	/* a From domain that is no name (the caller's check missed it) is
	 * left out, not written into a header field */
	if (fn > 0 && fn <= DMARC_NAME_MAX && dkim_name_ok(from, fn) &&
	    (!str_cats(out, " header.from=") || !str_catb(out, from, fn)))
		return -1;
	return 0;
}
