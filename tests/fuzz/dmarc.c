/* libFuzzer target for DMARC (src/lib/dmarc.c): policy records come from
 * strangers' DNS, domains from strangers' headers.  The first byte
 * chooses what the rest is read as, the second seeds the answers of the
 * DNS standing in (below):
 *  0: a TXT record: one read as a record has its fields in range, no
 *     byte but printable ASCII and blanks, and v=DMARC1 first; the
 *     record written out again in canonical form reads back the same;
 *  1: a domain: its walk is at most 8 names, the first the domain in
 *     lower case, each a suffix of it at a label boundary with fewer
 *     labels than the one before, the last a top-level name, 8 names
 *     exactly from 8 labels up; its Organizational Domain (the DNS
 *     holding psd=y, psd=n and plain records), when known, is a suffix
 *     of it at a label boundary, and when not, is left empty;
 *  2: lines: the From domain, two d= of passing signatures, the domain
 *     SPF passed (empty: none), then TXT records: the verdict's result
 *     is one of its four words, "pass" exactly when an identifier is
 *     named as aligned, a record's place one of From's walk names
 *     (none for "none"), every name asked among dmarc_names', and the
 *     clause of Authentication-Results has no CR, LF or NUL.
 * The DNS: each name's answer is chosen by a hash of it and the seed
 * (none, a failure, NULL, or one of the records of the input), or, with
 * the seed's top bit, by the count of lookups so far, so that the same
 * name may be answered differently within one verdict.
 * Built and run by tests/fuzz.sh. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "dmarc.h"
#include "dkim.h"

#define NREC 16
#define LINE_MAX_ 300 /* bytes of a line taken as a domain: past 253, no name */
#define NAMES_MAX 64

static struct dmarc_step rec[NREC], none_step, fail_step;
static size_t nrec;
static unsigned seed;
static unsigned long calls;
static char names[NAMES_MAX][DMARC_NAME_MAX + 1];
static size_t nnames;
static int check_asked;

static const char *const results[] = { "pass", "fail", "none", "temperror" };

static unsigned hash(const char *s)
{
	unsigned h = 2166136261u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

static const struct dmarc_step *lookup(void *ctx, const char *name)
{
	unsigned h = seed & 0x80 ? (unsigned)calls * 2654435761u ^ seed : hash(name) ^ seed * 2654435761u;
	size_t i;

	(void)ctx;
	calls++;
	if (check_asked) {
		for (i = 0; i < nnames && strcmp(names[i], name) != 0; i++)
			;
		if (i == nnames)
			abort(); /* asked a name dmarc_names did not give */
	}
	switch (h % 8) {
	case 0:
	case 1:
	case 2:
		return &none_step;
	case 3:
		return &fail_step;
	case 4:
		return 0;
	default:
		return nrec ? &rec[(h / 8) % nrec] : &none_step;
	}
}

static size_t labels(const char *d)
{
	size_t k = 1;

	for (; *d; d++)
		if (*d == '.')
			k++;
	return k;
}

/* s is the last labels of d (lower case, as d is) */
static int suffix_of(const char *s, const char *d)
{
	size_t sn = strlen(s), dn = strlen(d);

	return sn > 0 && sn <= dn && memcmp(d + dn - sn, s, sn) == 0 && (sn == dn || d[dn - sn - 1] == '.');
}

static void check_record(const char *t, size_t n)
{
	struct dmarc_record r, again;
	char buf[128];
	size_t i, len = 0;

	if (dmarc_record_parse(t, n, &r) != 0)
		return;
	for (i = 0; i < n; i++)
		if (!((t[i] >= 0x20 && t[i] <= 0x7e) || t[i] == '\t'))
			abort();
	for (i = 0; i < n && (t[i] == ' ' || t[i] == '\t'); i++)
		;
	if (n - i < 8 || t[i] != 'v')
		abort();
	if ((unsigned)r.p > DMARC_P_REJECT || (unsigned)r.sp > DMARC_P_REJECT || (unsigned)r.np > DMARC_P_REJECT ||
	    (!r.has_sp && r.sp != DMARC_P_NONE) || (!r.has_np && r.np != DMARC_P_NONE) || !strchr("ynu", r.psd) ||
	    r.psd == 0 || (unsigned)r.has_sp > 1 || (unsigned)r.has_np > 1 || (unsigned)r.adkim_strict > 1 ||
	    (unsigned)r.aspf_strict > 1 || (unsigned)r.testing > 1)
		abort();
#define CAT(s) do { size_t l_ = strlen(s); memcpy(buf + len, s, l_); len += l_; } while (0)
	CAT("v=DMARC1; p=");
	CAT(dmarc_policy_name(r.p));
	if (r.has_sp) {
		CAT("; sp=");
		CAT(dmarc_policy_name(r.sp));
	}
	if (r.has_np) {
		CAT("; np=");
		CAT(dmarc_policy_name(r.np));
	}
	CAT(r.adkim_strict ? "; adkim=s" : "; adkim=r");
	CAT(r.aspf_strict ? "; aspf=s" : "; aspf=r");
	CAT(r.psd == 'y' ? "; psd=y" : r.psd == 'n' ? "; psd=n" : "; psd=u");
	CAT(r.testing ? "; t=y" : "; t=n");
#undef CAT
	if (dmarc_record_parse(buf, len, &again) != 0 || memcmp(&r, &again, sizeof r) != 0)
		abort();
}

static void check_domain(const char *d)
{
	char w[DMARC_WALK_MAX][DMARC_NAME_MAX + 1], org[DMARC_NAME_MAX + 1];
	size_t n = dmarc_walk(d, w), i, k, dl;

	if (n == 0) {
		if (dmarc_org_domain(d, lookup, 0, org) != -1 || org[0])
			abort();
		return;
	}
	dl = strlen(d);
	if (n > DMARC_WALK_MAX || !dkim_name_ok(d, dl) || strlen(w[0]) != dl)
		abort();
	for (i = 0; i < dl; i++)
		if (w[0][i] != (d[i] >= 'A' && d[i] <= 'Z' ? d[i] + 32 : d[i]))
			abort();
	k = labels(w[0]);
	if (n != (k < 8 ? k : 8) || labels(w[n - 1]) != 1 || (k >= 8 && labels(w[1]) != 7))
		abort();
	for (i = 1; i < n; i++)
		if (!suffix_of(w[i], w[0]) || labels(w[i]) >= labels(w[i - 1]))
			abort();
	if (dmarc_org_domain(d, lookup, 0, org) == 0) {
		if (!suffix_of(org, w[0]))
			abort();
	} else if (org[0]) {
		abort();
	}
}

/* the next line of data into buf (at most LINE_MAX_ bytes kept) */
static size_t line(const uint8_t *data, size_t size, size_t at, char *buf)
{
	const uint8_t *nl = at < size ? memchr(data + at, '\n', size - at) : 0;
	size_t end = nl ? (size_t)(nl - data) : size, n = at < end ? end - at : 0;

	if (n > LINE_MAX_)
		n = LINE_MAX_;
	if (n)
		memcpy(buf, data + at, n);
	buf[n] = 0;
	return nl ? end + 1 : size;
}

static void check_verdict(const uint8_t *data, size_t size)
{
	static char from[LINE_MAX_ + 1], d0[LINE_MAX_ + 1], d1[LINE_MAX_ + 1], spf[LINE_MAX_ + 1];
	char w[DMARC_WALK_MAX][DMARC_NAME_MAX + 1];
	const char *d[2];
	struct dmarc_input in;
	struct dmarc_verdict v;
	struct str ar = STR_INIT;
	size_t at = 0, i, nw;

	at = line(data, size, at, from);
	at = line(data, size, at, d0);
	at = line(data, size, at, d1);
	at = line(data, size, at, spf);
	for (nrec = 0; at < size && nrec < NREC;) {
		const uint8_t *nl = memchr(data + at, '\n', size - at);
		size_t end = nl ? (size_t)(nl - data) : size;
		if (dmarc_record_parse((const char *)data + at, end - at, &rec[nrec].r) == 0) {
			rec[nrec].a = DMARC_A_RECORD;
			nrec++;
		}
		at = nl ? end + 1 : size;
	}
	d[0] = d0;
	d[1] = d1;
	memset(&in, 0, sizeof in);
	in.from = from;
	in.dkim_pass = d;
	in.ndkim = 2;
	in.spf_domain = spf[0] ? spf : 0;
	in.spf_pass = spf[0] != 0;
	nnames = 0;
	dmarc_names(&in, names, NAMES_MAX, &nnames);
	if (nnames > 3 * DMARC_WALK_MAX + DMARC_WALK_MAX)
		abort();
	for (i = 0; i < nnames; i++)
		if (!dkim_name_ok(names[i], strlen(names[i])))
			abort();
	check_asked = 1;
	dmarc_evaluate(&in, lookup, 0, &v);
	check_asked = 0;

	for (i = 0; i < 4 && strcmp(v.result, results[i]) != 0; i++)
		;
	if (i == 4 || (!strcmp(v.result, "pass")) != (v.aligned != 0) ||
	    (v.aligned && strcmp(v.aligned, "dkim") && strcmp(v.aligned, "spf")) || (unsigned)v.policy > DMARC_P_REJECT ||
	    !memchr(v.policy_domain, 0, sizeof v.policy_domain))
		abort();
	if (v.policy_domain[0]) {
		nw = dmarc_walk(from, w);
		for (i = 0; i < nw && strcmp(w[i], v.policy_domain) != 0; i++)
			;
		if (i == nw || !strcmp(v.result, "none"))
			abort();
	} else if (strcmp(v.result, "none") && strcmp(v.result, "temperror")) {
		abort();
	}
	if (dmarc_ar_clause(&ar, &v, from, (seed & 3) == 0 ? "none" : (seed & 3) == 1 ? "quarantine" : "reject"))
		abort();
	if (ar.len < 6 || memcmp(ar.s, "dmarc=", 6) != 0 || memchr(ar.s, '\r', ar.len) || memchr(ar.s, '\n', ar.len) ||
	    memchr(ar.s, 0, ar.len))
		abort();
	str_free(&ar);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char dom[LINE_MAX_ + 1];

	if (size < 2)
		return 0;
	none_step.a = DMARC_A_NONE;
	fail_step.a = DMARC_A_TEMPFAIL;
	seed = data[1];
	calls = 0;
	nrec = 0;
	switch (data[0] % 3) {
	case 0:
		check_record((const char *)data + 2, size - 2);
		break;
	case 1: {
		static const char *const fixed[] = { "v=DMARC1; psd=y", "v=DMARC1; psd=n", "v=DMARC1; p=reject" };
		for (nrec = 0; nrec < 3; nrec++) {
			rec[nrec].a = DMARC_A_RECORD;
			if (dmarc_record_parse(fixed[nrec], strlen(fixed[nrec]), &rec[nrec].r))
				abort();
		}
		(void)line(data, size, 2, dom);
		check_domain(dom);
		break;
	}
	case 2:
		check_verdict(data + 2, size - 2);
		break;
	}
	return 0;
}
