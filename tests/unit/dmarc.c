/* src/lib/dmarc.c: DMARC's text and logic without the DNS.  The policy
 * record (good ones, the case rules, v= first, pct= and t=, psd=, every
 * way a text is no record), the names of the DNS Tree Walk (1 to 11
 * labels, and names it refuses), the Organizational Domain from a small
 * table of answers standing in for the DNS (psd=n, psd=y, the fewest
 * labels, no record, failed lookups and when they matter), the verdict
 * (strict and relaxed alignment of DKIM and SPF, sp=, none, temperror,
 * t=), the names an evaluation asks, and the Authentication-Results
 * clause. */
#include <string.h>
#include "check.h"
#include "dmarc.h"

/* The DNS: a table of names and what _dmarc.NAME holds.  TEMP: the
 * lookup failed; GONE: the table says NULL.  A name not in the table
 * has no record (DMARC_A_NONE), or, with z.strict, the lookup gives
 * NULL.  Every name asked is logged. */
#define TEMP "\001temp"
#define GONE "\001gone"
struct entry {
	const char *name, *txt;
};
static struct zone {
	const struct entry *e;
	size_t n;
	int strict;
	struct dmarc_step step;
	char asked[64][DMARC_NAME_MAX + 1];
	size_t nasked;
} z;

static const struct dmarc_step *lookup(void *ctx, const char *name)
{
	struct zone *t = ctx;
	size_t i;

	if (t->nasked < 64)
		memcpy(t->asked[t->nasked], name, strlen(name) + 1);
	t->nasked++;
	memset(&t->step, 0, sizeof t->step);
	for (i = 0; i < t->n; i++)
		if (!strcmp(t->e[i].name, name))
			break;
	if (i == t->n) {
		t->step.a = DMARC_A_NONE;
		return t->strict ? 0 : &t->step;
	}
	if (!strcmp(t->e[i].txt, GONE))
		return 0;
	if (!strcmp(t->e[i].txt, TEMP))
		t->step.a = DMARC_A_TEMPFAIL;
	else
		t->step.a = dmarc_record_parse(t->e[i].txt, strlen(t->e[i].txt), &t->step.r) ? DMARC_A_NONE : DMARC_A_RECORD;
	return &t->step;
}

#define ZONE(table) zone_set(table, sizeof table / sizeof table[0])
static void zone_set(const struct entry *e, size_t n)
{
	memset(&z, 0, sizeof z);
	z.e = e;
	z.n = n;
}

static struct dmarc_record R;
static int parse(const char *s) { return dmarc_record_parse(s, strlen(s), &R); }
#define OK(s) (parse(s) == 0)
#define BAD(s) (parse(s) == -1)
#define BADN(s) (dmarc_record_parse(s, sizeof s - 1, &R) == -1)

static void records(void)
{
	struct str m = STR_INIT;
	size_t i;

	CHECK(OK("v=DMARC1; p=reject") && R.p == DMARC_P_REJECT && !R.has_sp && !R.has_np && !R.adkim_strict &&
	      !R.aspf_strict && R.psd == 'u' && !R.testing, "v=DMARC1; p=reject: the rest by default");
	CHECK(OK("v=DMARC1; p=quarantine; sp=reject; np=none; adkim=s; aspf=s; psd=n; t=y; "
	         "rua=mailto:a@example.com,mailto:b@example.net; ruf=mailto:f@example.com; fo=0:1:d:s; rf=afrf; ri=86400") &&
	      R.p == DMARC_P_QUARANTINE && R.has_sp && R.sp == DMARC_P_REJECT && R.has_np && R.np == DMARC_P_NONE &&
	      R.adkim_strict && R.aspf_strict && R.psd == 'n' && R.testing, "every tag read, the reporting ones ignored");
	CHECK(OK("v=DMARC1; p=REJECT; sp=Quarantine; np=rEjEcT; adkim=S; aspf=S; psd=Y; t=Y") &&
	      R.p == DMARC_P_REJECT && R.sp == DMARC_P_QUARANTINE && R.np == DMARC_P_REJECT && R.adkim_strict &&
	      R.aspf_strict && R.psd == 'y' && R.testing, "values in any case");
	CHECK(BAD("V=DMARC1; p=reject") && BAD("v=dmarc1; p=reject") && BAD("v=Dmarc1; p=reject"),
	      "v=DMARC1 exactly: V= and dmarc1 are no record");
	CHECK(BAD("v=DMARC2; p=reject") && BAD("v=DMARC1x; p=reject") && BAD("v=DMARC; p=reject") && BAD("v=; p=reject"),
	      "another version: no record");
	CHECK(BAD("p=reject; v=DMARC1") && BAD("p=reject") && BAD("vv=DMARC1; p=reject") && BAD("adkim=s; v=DMARC1"),
	      "v= not first, or none: no record");
	CHECK(OK(" v = DMARC1 ; p = reject ; ") && R.p == DMARC_P_REJECT, "blanks around tags, '=' and ';'");
	CHECK(OK("\tv\t=\tDMARC1\t;\tp\t=\tquarantine\t") && R.p == DMARC_P_QUARANTINE, "tabs too");
	CHECK(OK("v=DMARC1;p=reject;sp=none") && R.p == DMARC_P_REJECT && R.has_sp && R.sp == DMARC_P_NONE, "no blanks at all");
	CHECK(OK("v=DMARC1") && R.p == DMARC_P_NONE && OK("v=DMARC1;") && OK("v=DMARC1 ; ") && R.p == DMARC_P_NONE,
	      "v=DMARC1 alone, with a ';' or without: a record, p=none");
	CHECK(BAD("") && BAD(" ") && BAD(";") && BAD("v=DMARC1;;p=reject") && BAD("v=DMARC1; ; p=reject") &&
	      BAD("v=DMARC1;;") && BAD("; v=DMARC1"), "an empty text or an empty tag: no record");
	CHECK(BAD("v=DMARC1 p=reject") && BAD("v=DMARC1, p=reject"), "no ';' after v=: its value is not DMARC1");
	CHECK(BAD("v=DMARC1; p") && BAD("v=DMARC1; p reject") && BAD("v=DMARC1; =reject") && BAD("v=DMARC1; 1p=x") &&
	      BAD("v=DMARC1; _x=y") && BAD("v=DMARC1; a-b=c") && BAD("v=DMARC1; p=reject; x"),
	      "a tag without '=', a bad tag name: no record");
	CHECK(BAD("v=DMARC1; p=reject\r\n") && BAD("v=DMARC1; p=re\nject") && BAD("v=DMARC1; rua=\x7f") &&
	      BAD("v=DMARC1; rua=caf\xc3\xa9") && BAD("v=DMARC1; p=reject; x=\x01") && BAD("v=DMARC1\r; p=reject") &&
	      BAD("\nv=DMARC1; p=reject"), "a control, DEL, an 8-bit byte anywhere: no record");
	CHECK(BADN("v=DMARC1; p=reject\0") && BADN("v=DMARC1\0; p=reject") && BADN("\0v=DMARC1"), "a NUL: no record");
	CHECK(dmarc_record_parse("v=DMARC1; p=rejectXXX", 18, &R) == 0 && R.p == DMARC_P_REJECT &&
	      dmarc_record_parse("v=DMARC1; p=reject", 7, &R) == -1, "n bytes read, no more");
	CHECK(dmarc_record_parse(0, 0, &R) == -1, "NULL: no record");

	CHECK(OK("v=DMARC1; p=rejected") && R.p == DMARC_P_NONE && OK("v=DMARC1; p=") && R.p == DMARC_P_NONE &&
	      OK("v=DMARC1; p=re ject") && R.p == DMARC_P_NONE && OK("v=DMARC1; p=\"reject\"") && R.p == DMARC_P_NONE,
	      "a bad p=: still a record, p=none");
	CHECK(OK("v=DMARC1; p=reject; sp=no; np=") && !R.has_sp && !R.has_np && R.sp == DMARC_P_NONE,
	      "a bad sp= or np=: unset");
	CHECK(OK("v=DMARC1; adkim=x; aspf=strict") && !R.adkim_strict && !R.aspf_strict &&
	      OK("v=DMARC1; adkim=r; aspf=R") && !R.adkim_strict && !R.aspf_strict, "adkim= and aspf=: r, or bad: relaxed");
	CHECK(OK("v=DMARC1; p=reject; p=none") && R.p == DMARC_P_REJECT && OK("v=DMARC1; p=bad; p=reject") &&
	      R.p == DMARC_P_NONE, "a tag twice: the first counts, even a bad one");
	CHECK(OK("v=DMARC1; p=reject; v=DMARC2") && R.p == DMARC_P_REJECT, "a second v= is ignored");
	CHECK(OK("v=DMARC1; P=reject; SP=reject") && R.p == DMARC_P_NONE && !R.has_sp, "tag names are case-sensitive");

	CHECK(OK("v=DMARC1; p=reject; pct=50") && R.testing && OK("v=DMARC1; pct=0") && R.testing &&
	      OK("v=DMARC1; pct=99") && R.testing, "pct= below 100: testing");
	CHECK(OK("v=DMARC1; pct=100") && !R.testing && OK("v=DMARC1; pct=101") && !R.testing &&
	      OK("v=DMARC1; pct=abc") && !R.testing && OK("v=DMARC1; pct=0050") && !R.testing && OK("v=DMARC1; pct=") &&
	      !R.testing && OK("v=DMARC1; pct=-1") && !R.testing, "pct= of 100, or bad: ignored");
	CHECK(OK("v=DMARC1; t=n; pct=50") && !R.testing && OK("v=DMARC1; pct=50; t=N") && !R.testing &&
	      OK("v=DMARC1; t=y; pct=100") && R.testing && OK("v=DMARC1; t=maybe; pct=20") && R.testing,
	      "a good t= says it; pct= stands in for a bad or absent one");
	CHECK(OK("v=DMARC1; t=n") && !R.testing && OK("v=DMARC1; t=yes") && !R.testing && OK("v=DMARC1; t=") &&
	      !R.testing, "t=n, or bad: not testing");

	CHECK(OK("v=DMARC1; psd=y") && R.psd == 'y' && OK("v=DMARC1; psd=n") && R.psd == 'n' && OK("v=DMARC1; psd=u") &&
	      R.psd == 'u' && OK("v=DMARC1; psd=N") && R.psd == 'n', "psd= y, n, u");
	CHECK(OK("v=DMARC1; psd=yes") && R.psd == 'u' && OK("v=DMARC1; psd=") && R.psd == 'u' && OK("v=DMARC1; psd=x") &&
	      R.psd == 'u' && OK("v=DMARC1; psd=y n") && R.psd == 'u', "psd= bad: u");

	str_copys(&m, "v=DMARC1; rua=mailto:");
	for (i = 0; i < 20000; i++)
		str_catc(&m, 'a');
	str_cats(&m, "@example.com; p=reject");
	for (i = 0; i < 1000; i++)
		str_cats(&m, "; x=1");
	CHECK(dmarc_record_parse(m.s, m.len, &R) == 0 && R.p == DMARC_P_REJECT, "a long value, a thousand tags");
	str_catc(&m, '\x80');
	CHECK(dmarc_record_parse(m.s, m.len, &R) == -1, "... and an 8-bit byte at the very end: no record");
	str_free(&m);
}

static char W[DMARC_WALK_MAX][DMARC_NAME_MAX + 1];

/* dmarc_walk of d is exactly the names of want, NULL-ended */
static int walk_is(const char *d, const char *const *want)
{
	size_t n = dmarc_walk(d, W), i;

	for (i = 0; want[i]; i++)
		if (i >= n || strcmp(W[i], want[i]) != 0)
			return 0;
	return n == i;
}

static void walks(void)
{
	static const char *const w1[] = { "com", 0 };
	static const char *const w2[] = { "example.com", "com", 0 };
	static const char *const w3[] = { "mail.example.com", "example.com", "com", 0 };
	static const char *const w7[] = { "a.b.c.d.e.example.com", "b.c.d.e.example.com", "c.d.e.example.com",
	                                  "d.e.example.com", "e.example.com", "example.com", "com", 0 };
	static const char *const w8[] = { "a.b.c.d.e.f.example.com", "b.c.d.e.f.example.com", "c.d.e.f.example.com",
	                                  "d.e.f.example.com", "e.f.example.com", "f.example.com", "example.com",
	                                  "com", 0 };
	static const char *const w11[] = { "a.b.c.d.e.f.g.h.i.example.com", "e.f.g.h.i.example.com",
	                                   "f.g.h.i.example.com", "g.h.i.example.com", "h.i.example.com",
	                                   "i.example.com", "example.com", "com", 0 };
	static const char *const wup[] = { "mail.example.com", "example.com", "com", 0 };
	static const char *const wu[] = { "_dmarc.x-y.example", "x-y.example", "example", 0 };
	char longest[DMARC_NAME_MAX + 2];
	size_t i, n;

	CHECK(walk_is("com", w1), "1 label: itself");
	CHECK(walk_is("example.com", w2), "2 labels: 2 names");
	CHECK(walk_is("mail.example.com", w3), "3 labels: mail.example.com, example.com, com");
	CHECK(walk_is("a.b.c.d.e.example.com", w7), "7 labels: 7 names, one label less each time");
	CHECK(walk_is("a.b.c.d.e.f.example.com", w8), "8 labels: itself, then 7, 6, ... 1 labels");
	CHECK(walk_is("a.b.c.d.e.f.g.h.i.example.com", w11), "11 labels: itself, then its last 7, 6, ... 1: 8 names");
	CHECK(walk_is("Mail.EXAMPLE.com", wup), "names in lower case");
	CHECK(walk_is("_dmarc.x-y.example", wu), "'-' and '_' as dkim_name_ok takes them");
	CHECK(dmarc_walk("", W) == 0 && dmarc_walk(0, W) == 0 && dmarc_walk("example.com.", W) == 0 &&
	      dmarc_walk(".example.com", W) == 0 && dmarc_walk("a..example.com", W) == 0 &&
	      dmarc_walk("exa mple.com", W) == 0 && dmarc_walk("ex\xc3\xa9.com", W) == 0 &&
	      dmarc_walk("[192.0.2.1]", W) == 0, "no host name: no names");
	CHECK(dmarc_walk("192.0.2.1", W) == 0 && dmarc_walk("mail.42", W) == 0 && dmarc_walk("7", W) == 0,
	      "a last label of digits (an address): no names");
	CHECK(dmarc_walk("192.0.2.x1", W) == 4 && dmarc_walk("a.1b", W) == 2, "a last label with a letter: a name");
	/* 253 bytes: 63 + 1 + 63 + 1 + 63 + 1 + 61 */
	for (i = 0; i < 253; i++)
		longest[i] = i % 64 == 63 ? '.' : 'a';
	longest[253] = 0;
	n = dmarc_walk(longest, W);
	CHECK(n == 4 && strlen(W[0]) == 253 && !strcmp(W[3], longest + 192), "253 bytes: walked");
	longest[253] = 'a';
	longest[254] = 0;
	CHECK(dmarc_walk(longest, W) == 0, "254 bytes: no names");
	memset(longest, 'a', 64);
	memcpy(longest + 64, ".com", 5);
	CHECK(dmarc_walk(longest, W) == 0, "a label of 64 bytes: no names");
}

/* dmarc_org_domain of d: got is the answer, "-1" for -1 */
static char got[DMARC_NAME_MAX + 1];
static int org(const char *d, const char *want)
{
	int r = dmarc_org_domain(d, lookup, &z, got);

	if (r)
		return !strcmp(want, "-1") && got[0] == 0;
	return !strcmp(got, want);
}

static int asked(size_t n, const char *const *want)
{
	size_t i;

	if (z.nasked != n)
		return 0;
	for (i = 0; i < n; i++)
		if (strcmp(z.asked[i], want[i]))
			return 0;
	return 1;
}

static void orgs(void)
{
	static const struct entry none[] = { { "unused.example", "v=DMARC1" } };
	static const struct entry plain[] = { { "example.com", "v=DMARC1; p=reject" } };
	static const struct entry two[] = { { "example.com", "v=DMARC1; p=reject" }, { "com", "v=DMARC1; p=none" } };
	static const struct entry self_n[] = { { "mail.example.com", "v=DMARC1; psd=n" },
	                                       { "example.com", "v=DMARC1; p=reject" } };
	static const struct entry mid_n[] = { { "example.com", "v=DMARC1; psd=n" }, { "com", "v=DMARC1; psd=n" } };
	static const struct entry psd_y[] = { { "co.uk", "v=DMARC1; p=none; psd=y" },
	                                      { "uk", "v=DMARC1; p=none; psd=n" } };
	static const struct entry tld_y[] = { { "uk", "v=DMARC1; psd=y" } };
	static const struct entry self_y[] = { { "b.example.co.uk", "v=DMARC1; psd=y" }, { "co.uk", "v=DMARC1; psd=y" } };
	static const struct entry long_y[] = { { "e.f.g.h.i.example.com", "v=DMARC1; psd=y" } };
	static const struct entry u_plain[] = { { "mail.example.com", "v=DMARC1; psd=u" },
	                                        { "example.com", "v=DMARC1; psd=u" } };
	static const struct entry broken[] = { { "example.com", "v=DMARC1;; p=reject" } };
	static const struct entry temp_up[] = { { "example.com", TEMP } };
	static const struct entry temp_self[] = { { "mail.example.com", TEMP } };
	static const struct entry temp_self_rec[] = { { "mail.example.com", TEMP }, { "example.com", "v=DMARC1" } };
	static const struct entry temp_self_y[] = { { "mail.example.com", TEMP }, { "example.com", "v=DMARC1; psd=y" } };
	static const struct entry temp_self_n[] = { { "mail.example.com", TEMP }, { "example.com", "v=DMARC1; psd=n" } };
	static const struct entry temp_after[] = { { "mail.example.com", "v=DMARC1; psd=n" }, { "example.com", TEMP } };
	static const struct entry temp_below[] = { { "example.com", "v=DMARC1" }, { "com", TEMP } };
	static const struct entry gone[] = { { "example.com", GONE } };
	static const char *const all3[] = { "mail.example.com", "example.com", "com" };

	ZONE(none);
	CHECK(org("mail.example.com", "mail.example.com") && asked(3, all3), "no record anywhere: the domain itself");
	ZONE(plain);
	CHECK(org("mail.example.com", "example.com") && asked(3, all3), "one record above: there");
	CHECK(org("example.com", "example.com"), "one record on the domain itself: itself");
	ZONE(two);
	CHECK(org("a.mail.example.com", "com"), "records at two names, no psd=: the one with the fewest labels");
	ZONE(self_n);
	CHECK(org("mail.example.com", "mail.example.com") && asked(1, all3), "psd=n at the domain itself: itself, the walk stops");
	ZONE(mid_n);
	CHECK(org("a.b.example.com", "example.com") && z.nasked == 3, "psd=n at a parent: there, the walk stops");
	ZONE(psd_y);
	CHECK(org("a.b.example.co.uk", "example.co.uk") && z.nasked == 4, "psd=y at a parent: one label longer, the walk stops");
	CHECK(org("example.co.uk", "example.co.uk"), "... the domain itself when that is one label longer");
	ZONE(tld_y);
	CHECK(org("a.b.co.uk", "co.uk") && org("uk", "uk"), "psd=y at the top-level name");
	ZONE(self_y);
	CHECK(org("b.example.co.uk", "b.example.co.uk") && z.nasked == 1, "psd=y at the domain itself: itself");
	ZONE(long_y);
	CHECK(org("a.b.c.d.e.f.g.h.i.example.com", "d.e.f.g.h.i.example.com"),
	      "psd=y where the walk cut 11 labels to 7: the last 8 labels, a name the walk did not ask");
	ZONE(u_plain);
	CHECK(org("x.mail.example.com", "example.com"), "psd=u: as no psd=");
	ZONE(broken);
	CHECK(org("mail.example.com", "mail.example.com"), "a text that is no record: no record");
	ZONE(temp_up);
	CHECK(org("mail.example.com", "-1"), "a failed lookup above the domain: -1");
	ZONE(temp_self);
	CHECK(org("mail.example.com", "mail.example.com"),
	      "a failed lookup at the domain, no record above: the domain whatever it held");
	ZONE(temp_self_rec);
	CHECK(org("mail.example.com", "-1"), "a failed lookup at the domain, a record above: -1");
	ZONE(temp_self_y);
	CHECK(org("mail.example.com", "mail.example.com"),
	      "a failed lookup at the domain, psd=y just above: the domain whatever it held");
	ZONE(temp_self_n);
	CHECK(org("mail.example.com", "-1"), "a failed lookup at the domain, psd=n above: -1");
	ZONE(temp_after);
	CHECK(org("mail.example.com", "mail.example.com") && z.nasked == 1, "a failure past where the walk stops: unasked");
	ZONE(temp_below);
	CHECK(org("mail.example.com", "-1"), "a failure below a plain record (it could have psd=n): -1");
	ZONE(gone);
	CHECK(org("mail.example.com", "-1"), "a lookup that gives NULL: failed");
	ZONE(none);
	z.strict = 1;
	CHECK(org("mail.example.com", "-1") && z.nasked == 2, "a table without the name (NULL) at a parent: -1");
	ZONE(none);
	CHECK(org("", "-1") && org("192.0.2.1", "-1") && org(0, "-1") && z.nasked == 0, "no name: -1, nothing asked");
}

static struct dmarc_verdict V;
static struct dmarc_input I;
static const char *D[4];

/* the verdict for from, d= (NULL-ended, or none) and an SPF domain that
 * passed (or NULL) */
static void eval(const char *from, const char *d0, const char *d1, const char *spf)
{
	size_t n = 0;

	if (d0)
		D[n++] = d0;
	if (d1)
		D[n++] = d1;
	I.from = from;
	I.dkim_pass = D;
	I.ndkim = n;
	I.spf_domain = spf;
	I.spf_pass = spf != 0;
	z.nasked = 0;
	dmarc_evaluate(&I, lookup, &z, &V);
}

static int verdict(const char *result, enum dmarc_policy p, const char *aligned, const char *where)
{
	return !strcmp(V.result, result) && V.policy == p &&
	       (aligned ? V.aligned && !strcmp(V.aligned, aligned) : V.aligned == 0) && !strcmp(V.policy_domain, where);
}

static void evaluations(void)
{
	static const struct entry relaxed[] = { { "example.com", "v=DMARC1; p=reject" } };
	static const struct entry strict[] = { { "example.com", "v=DMARC1; p=reject; adkim=s; aspf=s" } };
	static const struct entry subs[] = { { "example.com", "v=DMARC1; p=reject; sp=quarantine" } };
	static const struct entry nps[] = { { "example.com", "v=DMARC1; p=quarantine; sp=none; np=reject" } };
	static const struct entry nosp[] = { { "example.com", "v=DMARC1; p=quarantine; sp=bad" } };
	static const struct entry self[] = { { "mail.example.com", "v=DMARC1; p=none; sp=reject" },
	                                     { "example.com", "v=DMARC1; p=reject" } };
	static const struct entry testing[] = { { "example.com", "v=DMARC1; p=reject; t=y" } };
	static const struct entry pct[] = { { "example.com", "v=DMARC1; p=reject; pct=10" } };
	static const struct entry temp_first[] = { { "mail.example.com", TEMP }, { "example.com", "v=DMARC1; p=reject" } };
	static const struct entry temp_org[] = { { "mail.example.com", "v=DMARC1; p=reject" }, { "com", TEMP } };
	static const struct entry temp_d[] = { { "example.com", "v=DMARC1; p=reject" }, { "net", TEMP } };
	static const struct entry temp_dself[] = { { "example.com", "v=DMARC1; p=reject" }, { "example.net", TEMP } };
	static const struct entry psd[] = { { "gov", "v=DMARC1; p=reject; sp=quarantine; psd=y" } };
	static const struct entry below[] = { { "a.example.com", "v=DMARC1; p=reject; psd=n" },
	                                      { "example.com", "v=DMARC1; p=none" } };

	ZONE(relaxed);
	eval("example.com", "example.com", 0, 0);
	CHECK(verdict("pass", DMARC_P_REJECT, "dkim", "example.com") && !V.testing && z.nasked == 1,
	      "d= the From domain: pass by DKIM, one lookup (the policy)");
	eval("example.com", "EXAMPLE.com", 0, 0);
	CHECK(verdict("pass", DMARC_P_REJECT, "dkim", "example.com") && z.nasked == 1,
	      "d= the same name in another case: aligned, nothing more asked");
	eval("mail.example.com", "example.com", 0, 0);
	CHECK(verdict("pass", DMARC_P_REJECT, "dkim", "example.com"), "relaxed: d= the parent aligns");
	eval("example.com", "news.example.com", 0, 0);
	CHECK(verdict("pass", DMARC_P_REJECT, "dkim", "example.com"), "relaxed: d= a subdomain aligns");
	eval("example.com", "example.net", 0, 0);
	CHECK(verdict("fail", DMARC_P_REJECT, 0, "example.com"), "d= of another organization: fail");
	eval("example.com", "com", 0, 0);
	CHECK(verdict("fail", DMARC_P_REJECT, 0, "example.com"), "d= the top-level name: fail");
	eval("example.com", "example.net", "example.com", 0);
	CHECK(verdict("pass", DMARC_P_REJECT, "dkim", "example.com"), "the second signature aligns: pass");
	eval("example.com", 0, 0, "bounce.example.com");
	CHECK(verdict("pass", DMARC_P_REJECT, "spf", "example.com"), "relaxed: SPF's domain aligns");
	eval("example.com", "example.com", 0, "example.com");
	CHECK(verdict("pass", DMARC_P_REJECT, "dkim", "example.com"), "both align: DKIM named");
	eval("example.com", "example.net", 0, "example.org");
	CHECK(verdict("fail", DMARC_P_REJECT, 0, "example.com"), "neither aligns: fail");
	eval("example.com", 0, 0, 0);
	CHECK(verdict("fail", DMARC_P_REJECT, 0, "example.com"), "nothing passed: fail");
	I.spf_pass = 0;
	I.spf_domain = "example.com";
	dmarc_evaluate(&I, lookup, &z, &V);
	CHECK(verdict("fail", DMARC_P_REJECT, 0, "example.com"), "SPF that did not pass does not align");
	eval("example.com", "exa mple.com", "", 0);
	CHECK(verdict("fail", DMARC_P_REJECT, 0, "example.com"), "a d= that is no name aligns with nothing, no temperror");
	D[0] = 0;
	I.ndkim = 1;
	dmarc_evaluate(&I, lookup, &z, &V);
	CHECK(verdict("fail", DMARC_P_REJECT, 0, "example.com"), "a NULL d=: nothing");

	ZONE(strict);
	eval("example.com", "mail.example.com", 0, "mail.example.com");
	CHECK(verdict("fail", DMARC_P_REJECT, 0, "example.com") && z.nasked == 1,
	      "adkim=s, aspf=s: a subdomain does not align, nothing more asked");
	eval("example.com", "Example.COM", 0, 0);
	CHECK(verdict("pass", DMARC_P_REJECT, "dkim", "example.com"), "strict: the same name, case aside");
	eval("example.com", 0, 0, "example.com");
	CHECK(verdict("pass", DMARC_P_REJECT, "spf", "example.com"), "strict: SPF's the same name");

	ZONE(subs);
	eval("mail.example.com", 0, 0, 0);
	CHECK(verdict("fail", DMARC_P_QUARANTINE, 0, "example.com") && z.nasked == 2,
	      "a subdomain: the parent's sp=, the walk stopping at the record");
	eval("example.com", 0, 0, 0);
	CHECK(verdict("fail", DMARC_P_REJECT, 0, "example.com"), "the domain itself: p=");
	I.from_nxdomain = 1;
	eval("ghost.example.com", 0, 0, 0);
	CHECK(verdict("fail", DMARC_P_QUARANTINE, 0, "example.com"), "a subdomain that does not exist, no np=: sp=");
	ZONE(nps);
	eval("ghost.example.com", 0, 0, 0);
	CHECK(verdict("fail", DMARC_P_REJECT, 0, "example.com"), "a subdomain that does not exist: np=");
	eval("example.com", 0, 0, 0);
	CHECK(verdict("fail", DMARC_P_QUARANTINE, 0, "example.com"), "the domain itself, even not existing: p=");
	I.from_nxdomain = 0;
	eval("mail.example.com", 0, 0, 0);
	CHECK(verdict("fail", DMARC_P_NONE, 0, "example.com"), "a subdomain that exists: sp=, not np=");
	ZONE(nosp);
	eval("a.b.example.com", 0, 0, 0);
	CHECK(verdict("fail", DMARC_P_QUARANTINE, 0, "example.com"), "a subdomain, no good sp=: p=");
	ZONE(self);
	eval("mail.example.com", 0, 0, 0);
	CHECK(verdict("fail", DMARC_P_NONE, 0, "mail.example.com"), "its own record first: its p=, not its sp=");
	eval("x.mail.example.com", "example.com", 0, 0);
	CHECK(verdict("pass", DMARC_P_REJECT, "dkim", "mail.example.com"),
	      "the nearest record's sp=; org domain example.com (the fewest labels)");

	ZONE(relaxed);
	eval("example.org", "example.org", 0, 0);
	CHECK(verdict("none", DMARC_P_NONE, 0, "") && !V.testing && z.nasked == 2, "no record: none");
	eval("", "example.org", 0, 0);
	CHECK(verdict("none", DMARC_P_NONE, 0, "") && z.nasked == 0, "From no name: none, nothing asked");
	eval(0, 0, 0, 0);
	CHECK(verdict("none", DMARC_P_NONE, 0, ""), "From NULL: none");

	ZONE(testing);
	eval("example.com", "example.com", 0, 0);
	CHECK(verdict("pass", DMARC_P_REJECT, "dkim", "example.com") && V.testing, "t=y carried");
	ZONE(pct);
	eval("example.com", 0, 0, 0);
	CHECK(verdict("fail", DMARC_P_REJECT, 0, "example.com") && V.testing, "pct=10 carried as testing");

	ZONE(temp_first);
	eval("mail.example.com", "mail.example.com", 0, 0);
	CHECK(verdict("temperror", DMARC_P_NONE, 0, "") && z.nasked == 1, "a failure before any record: temperror");
	ZONE(relaxed);
	z.strict = 1;
	eval("mail.example.com", "mail.example.com", 0, 0);
	CHECK(verdict("temperror", DMARC_P_NONE, 0, ""), "NULL from the lookup before any record: temperror");
	ZONE(temp_org);
	eval("mail.example.com", "mail.example.com", 0, 0);
	CHECK(verdict("pass", DMARC_P_REJECT, "dkim", "mail.example.com"), "a failure past the policy: no matter when d= is From");
	eval("mail.example.com", "example.com", 0, 0);
	CHECK(verdict("temperror", DMARC_P_REJECT, 0, "mail.example.com"),
	      "From's org domain not known, nothing else aligns: temperror, the record's policy");
	eval("mail.example.com", "example.com", 0, "mail.example.com");
	CHECK(verdict("pass", DMARC_P_REJECT, "spf", "mail.example.com"), "... and SPF aligns: pass");
	ZONE(temp_d);
	eval("example.com", "example.net", 0, 0);
	CHECK(verdict("temperror", DMARC_P_REJECT, 0, "example.com"), "d='s org domain not known: temperror");
	eval("example.com", "example.net", "mail.example.com", 0);
	CHECK(verdict("pass", DMARC_P_REJECT, "dkim", "example.com"), "... and another d= aligns: pass");
	ZONE(temp_dself);
	eval("example.com", "example.net", 0, 0);
	CHECK(verdict("fail", DMARC_P_REJECT, 0, "example.com"),
	      "a failure at d= itself, nothing above it: its org domain is itself whatever it held, fail");

	ZONE(psd);
	eval("a.example.gov", "b.example.gov", 0, 0);
	CHECK(verdict("pass", DMARC_P_QUARANTINE, "dkim", "gov"),
	      "psd=y at gov: example.gov the org domain of both, gov's sp=");
	eval("a.example.gov", "other.gov", 0, "gov");
	CHECK(verdict("fail", DMARC_P_QUARANTINE, 0, "gov"), "another name under the public suffix, or it: fail");
	ZONE(below);
	eval("a.example.com", "b.example.com", 0, 0);
	CHECK(verdict("fail", DMARC_P_REJECT, 0, "a.example.com"), "psd=n below example.com: a sibling is another organization");
}

static size_t N;
static char NAMES[32][DMARC_NAME_MAX + 1];

static int names_are(const char *const *want)
{
	size_t i;

	for (i = 0; want[i]; i++)
		if (i >= N || strcmp(NAMES[i], want[i]))
			return 0;
	return N == i;
}

static void namelists(void)
{
	static const char *const all[] = { "mail.example.com", "example.com", "com", "example.net", "net",
	                                   "bounce.example.com", 0 };
	static const char *const nospf[] = { "mail.example.com", "example.com", "com", "example.net", "net", 0 };
	static const char *const two[] = { "mail.example.com", "example.com", 0 };
	static const char *const pre[] = { "com", "mail.example.com", "example.com", 0 };
	const char *d[3] = { "example.com", "Example.NET", "mail.example.com" };
	struct dmarc_input in;

	memset(&in, 0, sizeof in);
	in.from = "mail.example.com";
	in.dkim_pass = d;
	in.ndkim = 3;
	in.spf_domain = "bounce.example.com";
	in.spf_pass = 1;
	N = 0;
	dmarc_names(&in, NAMES, 32, &N);
	CHECK(names_are(all), "From's walk, then each d='s and SPF's, each name once, in lower case");
	in.spf_pass = 0;
	N = 0;
	dmarc_names(&in, NAMES, 32, &N);
	CHECK(names_are(nospf), "SPF that did not pass: not asked");
	N = 0;
	dmarc_names(&in, NAMES, 2, &N);
	CHECK(names_are(two), "bounded by max");
	N = 1;
	memcpy(NAMES[0], "com", 4);
	in.ndkim = 1;
	dmarc_names(&in, NAMES, 32, &N);
	CHECK(names_are(pre), "appended; a name already there not again");
	N = 33;
	dmarc_names(&in, NAMES, 32, &N);
	CHECK(N == 33, "a count over max: nothing added");
	in.from = "192.0.2.1";
	in.ndkim = 0;
	in.spf_pass = 1;
	in.spf_domain = "exa mple.com";
	N = 0;
	dmarc_names(&in, NAMES, 32, &N);
	CHECK(N == 0, "no names from what is no name");
	in.from = "a.b.c.d.e.f.g.h.i.example.com";
	in.spf_domain = "x.y.example.com";
	N = 0;
	dmarc_names(&in, NAMES, 32, &N);
	CHECK(N == 10 && !strcmp(NAMES[8], "x.y.example.com") && !strcmp(NAMES[9], "y.example.com"),
	      "11 labels: 8 names, then SPF's two new ones");
}

static int clause(const struct dmarc_verdict *v, const char *from, const char *dis, const char *want)
{
	struct str out = STR_INIT;
	int r = dmarc_ar_clause(&out, v, from, dis) == 0 && out.len == strlen(want) && !memcmp(out.s, want, out.len);

	str_free(&out);
	return r;
}

static void clauses(void)
{
	struct dmarc_verdict v;
	struct str out = STR_INIT;

	memset(&v, 0, sizeof v);
	v.result = "pass";
	v.policy = DMARC_P_REJECT;
	memcpy(v.policy_domain, "example.com", 12);
	CHECK(clause(&v, "example.com", "none", "dmarc=pass (p=reject dis=none) header.from=example.com"),
	      "pass: dmarc=pass (p=reject dis=none) header.from=example.com");
	v.result = "fail";
	v.policy = DMARC_P_QUARANTINE;
	CHECK(clause(&v, "mail.example.com", "quarantine",
	             "dmarc=fail (p=quarantine dis=quarantine) header.from=mail.example.com"), "fail, quarantined");
	v.result = "temperror";
	CHECK(clause(&v, "example.com", "none", "dmarc=temperror (p=quarantine dis=none) header.from=example.com"),
	      "temperror with a record: the parenthesis");
	memset(&v, 0, sizeof v);
	v.result = "none";
	CHECK(clause(&v, "example.com", "none", "dmarc=none header.from=example.com"), "none: no parenthesis");
	v.result = "temperror";
	CHECK(clause(&v, "example.com", "none", "dmarc=temperror header.from=example.com"),
	      "temperror before a record: no parenthesis");
	CHECK(clause(&v, "exa\r\nmple.com", "none", "dmarc=temperror") && clause(&v, 0, "none", "dmarc=temperror") &&
	      clause(&v, "", "none", "dmarc=temperror"), "a From that is no name: no header.from");
	str_copys(&out, "x; ");
	CHECK(dmarc_ar_clause(&out, &v, "example.com", "none") == 0 && str_equals(&out, "x; dmarc=temperror header.from=example.com"),
	      "appended");
	v.result = "permerror";
	out.len = 0;
	CHECK(dmarc_ar_clause(&out, &v, "example.com", "none") == -1 && out.len == 0, "a result not ours: -1, nothing written");
	v.result = "pass";
	CHECK(dmarc_ar_clause(&out, &v, "example.com", "drop") == -1 && dmarc_ar_clause(&out, &v, "example.com", 0) == -1 &&
	      dmarc_ar_clause(&out, &v, "example.com", "none\r\n") == -1 && out.len == 0, "a disposition not ours: -1");
	CHECK(!strcmp(dmarc_policy_name(DMARC_P_NONE), "none") &&
	      !strcmp(dmarc_policy_name(DMARC_P_QUARANTINE), "quarantine") &&
	      !strcmp(dmarc_policy_name(DMARC_P_REJECT), "reject") && !strcmp(dmarc_policy_name((enum dmarc_policy)9), "none"),
	      "policy names");
	str_free(&out);
}

int main(void)
{
	records();
	walks();
	orgs();
	evaluations();
	namelists();
	clauses();
	return check_done();
}
