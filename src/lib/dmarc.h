/* DMARC (RFC 7489, as RFC 9989 revises it) without the DNS: the policy
 * record read as hostile text, the names of the DNS Tree Walk that finds
 * a domain's policy and its Organizational Domain (RFC 9989 4.10; no
 * public suffix list), identifier alignment, the verdict, and its clause
 * of the Authentication-Results field.  postern-dkimverify asks the
 * names (doc/dkim.md, "DMARC"); everything here is pure, for the unit
 * test and the fuzz target.  Domains are host names in lower case,
 * without a trailing dot (dkim_name_ok's names). */
#ifndef POSTERN_DMARC_H
#define POSTERN_DMARC_H
#include <stddef.h>
#include "str.h"

#define DMARC_NAME_MAX 253
#define DMARC_WALK_MAX 8 /* names one walk asks: the domain, then at most 7 */

enum dmarc_policy { DMARC_P_NONE, DMARC_P_QUARANTINE, DMARC_P_REJECT };

/* One policy record (RFC 7489 6.3, RFC 9989 4.7): a tag list (tags
 * separated by ';', spaces and tabs around tags, '=' and values) whose
 * first tag is v=DMARC1 (exactly: the tag name case-sensitive, as all
 * tag names are in DKIM's tag lists, RFC 6376 3.2; the value
 * %x44.4d.41.52.43.31 in RFC 7489's ABNF).  The list is read strictly,
 * as dkimverify.c reads DKIM's: a tag name is ALPHA *(ALPHA / DIGIT /
 * "_"), every tag has a '=', a value is printable ASCII but ';' (blanks
 * inside it allowed, empty allowed), one ';' may end the list and
 * blanks may stand first and last; an empty tag (";;"), a NUL, a CR, an
 * LF or an 8-bit byte anywhere, and the text is no record.  v=DMARC1
 * alone is a record (p=none).  p= none, quarantine or reject, case
 * aside; absent or another value: none (RFC 9989 4.7: a record with a
 * bad p= is still a record, as if p=none).  sp= and np= the same, absent
 * or bad: unset (and DMARC_P_NONE).  adkim= and aspf= r or s (absent or
 * bad: r).  psd= y, n or u (absent or bad: u).  t= y or n (absent or
 * bad: n; RFC 9989's testing flag); pct= (RFC 7489: 1 to 3 digits, 0 to
 * 100) read as t=y when below 100 ("not all of it yet"), ignored
 * otherwise and when a good t= is there (RFC 9989 has t= and no pct=).
 * Every value is compared case aside (ABNF's quoted strings).  Other
 * tags (rua, ruf, fo, rf, ri, unknown ones) are ignored.  A tag twice:
 * the first counts. */
struct dmarc_record {
	enum dmarc_policy p;
	int has_sp, has_np;
	enum dmarc_policy sp, np;
	int adkim_strict, aspf_strict;
	char psd;      /* 'y', 'n', 'u' */
	int testing;
};
/* 0 with *r, or -1 when txt (n bytes: a TXT record's strings joined) is
 * no DMARC record (not v=DMARC1 first, or not a tag list); *r is then
 * zeroes, psd 'u'. */
int dmarc_record_parse(const char *txt, size_t n, struct dmarc_record *r);

/* The names a DNS Tree Walk of domain asks, in order (RFC 9989 4.10.1):
 * the domain; then, while labels remain, the domain with its left-most
 * label removed, except that a name of 8 or more labels is cut to its
 * last 7 at once; the last name is the top-level one.  Into names (each
 * NUL-terminated, in lower case whatever the domain's case, at most
 * DMARC_WALK_MAX): their count; 0 when domain is NULL, no host name
 * (dkim_name_ok, which allows '_'), or has a label that is all digits as
 * its last (an address). */
size_t dmarc_walk(const char *domain, char names[][DMARC_NAME_MAX + 1]);

/* What one name's TXT lookup at _dmarc.NAME gave: DMARC_A_NONE for no
 * such name, no TXT record, no record that reads as DMARC, or more than
 * one that does (RFC 9989 4.10.1 step 2: all are then discarded);
 * DMARC_A_RECORD with r; DMARC_A_TEMPFAIL when the lookup failed. */
enum dmarc_answer { DMARC_A_NONE, DMARC_A_RECORD, DMARC_A_TEMPFAIL };
struct dmarc_step {
	enum dmarc_answer a;
	struct dmarc_record r;
};
/* The caller's table of answers: NULL for a name it does not have,
 * which counts as a lookup that failed (DMARC_A_TEMPFAIL), as does an
 * answer other than the three.  The names asked are the walks' (lower
 * case); nothing is kept from one call to the next, so every call asks
 * again. */
typedef const struct dmarc_step *(*dmarc_lookup)(void *ctx, const char *name);

/* The Organizational Domain of domain (RFC 9989 4.10.2), from the
 * answers of its walk: the name where a record with psd=n stands; for a
 * record with psd=y, the name one label longer than where it stands (the
 * domain's last labels, one more than that name has; the domain itself
 * when the record is on it); else the name with the fewest labels that
 * has a record; with no record anywhere, the domain itself.  The walk
 * goes from the domain up and stops at the first psd=y or psd=n.  0
 * with out (DMARC_NAME_MAX + 1 bytes) set, in lower case; -1, out
 * empty, when a lookup that could change the answer failed (one at any
 * name but the domain itself; one at the domain itself unless the
 * answer is the domain anyway), or domain is no name dmarc_walk takes. */
int dmarc_org_domain(const char *domain, dmarc_lookup lookup, void *ctx, char *out);

/* The inputs of a verdict: the Author Domain (the one From address's
 * domain), the d= of each DKIM signature that passed, and SPF's result
 * for the MAIL FROM domain (or the HELO name, for the null sender; RFC
 * 7489 names the MAIL FROM identity only, and RFC 9989 4.4 allows the
 * HELO name when MAIL FROM is empty). */
struct dmarc_input {
	const char *from;
	const char *const *dkim_pass;
	size_t ndkim;
	const char *spf_domain;  /* NULL when SPF was not checked */
	int spf_pass;
	int from_nxdomain;       /* the From domain does not exist (NXDOMAIN): np= applies */
};
struct dmarc_verdict {
	const char *result;      /* pass, fail, none (no policy record), temperror */
	enum dmarc_policy policy;/* the policy that applies to from: p= on its own record, sp= (or p=) on an ancestor's */
	int testing;             /* that record's t=y */
	const char *aligned;     /* "dkim" or "spf" (pass: the first aligned one found, DKIM first), else NULL */
	char policy_domain[DMARC_NAME_MAX + 1]; /* where the record stands */
};
/* The verdict for in: the first record of from's walk is its policy
 * (none found, or from no name dmarc_walk takes: "none"; a lookup failed
 * before one was found: "temperror"; both with policy_domain empty,
 * policy none, testing 0); then each passing d= and the SPF domain (when
 * SPF passed) is aligned with from, strictly (the same name, case
 * aside) when the record's adkim=s / aspf=s, else relaxed (the same name
 * without asking, or the same Organizational Domain, asked through
 * lookup; from's is asked at most once).  "pass" when one aligns;
 * otherwise "temperror" when a lookup that alignment needed failed,
 * else "fail".  An identifier that is no name aligns with nothing.  The
 * policy of an ancestor's record is np= when in->from_nxdomain and the
 * record has one (RFC 9989 4.7), else sp=, else p=. */
void dmarc_evaluate(const struct dmarc_input *in, dmarc_lookup lookup, void *ctx, struct dmarc_verdict *v);

/* The names an evaluation of in may ask about, each once, appended to
 * names (*n of max used, at most max): from's walk first, then those of
 * each passing d= and of the SPF domain (when SPF passed) that are not
 * there yet, names the caller put in before *n included.  A name past
 * max is left out (its lookup then counts as failed); a *n over max
 * adds nothing. */
void dmarc_names(const struct dmarc_input *in, char names[][DMARC_NAME_MAX + 1], size_t max, size_t *n);

/* The name of a policy: none, quarantine, reject (none for a value that
 * is none of the three). */
const char *dmarc_policy_name(enum dmarc_policy p);

/* Appends the clause of the Authentication-Results field: "dmarc=RESULT"
 * then, when a record was found, " (p=POLICY dis=DISPOSITION)" with
 * POLICY the verdict's and DISPOSITION dis (what this receiver did:
 * none, quarantine or reject), then " header.from=FROM".  A record was
 * found when v->policy_domain is not empty.  A from that dkim_name_ok
 * refuses is left out, header.from and all.  0, or -1 out of memory or
 * when v->result or dis is none of its words (a caller's bug: nothing
 * written then). */
int dmarc_ar_clause(struct str *out, const struct dmarc_verdict *v, const char *from, const char *dis);
#endif
