/* postern-smtpd's SPF evaluation (src/postern-smtpd/spf.c) against a zone
 * held in memory: the macro examples of RFC 7208 7.4, the record syntax,
 * the limits.  With --suite it reads zones and cases on stdin instead
 * (tests/t-spf-suite.py feeds it the openspf.org suite for RFC 7208, as
 * python3-spf ships it) and prints each case's result. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "postern-smtpd/spf.c"

/* One record of the zone: TIMEOUT entries keep their place, since a
 * lookup of a type no record before the TIMEOUT answered times out (the
 * suite's convention, tests/t-spf-suite.py). */
struct rr {
	char name[256];
	int type; /* SPF_T_*, 5 for CNAME, -1 for TIMEOUT */
	char data[SPF_RECORD_MAX + 1];
	size_t len;
};
static struct rr zone[512];
static size_t nzone;
static int lookups_seen;

static unsigned char lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

static int zone_add(const char *name, int type, const char *data, size_t len)
{
	struct rr *z;
	size_t i;
	if (nzone == sizeof zone / sizeof zone[0] || strlen(name) >= sizeof z->name || len > SPF_RECORD_MAX)
		return -1;
	z = &zone[nzone++];
	for (i = 0; name[i]; i++)
		z->name[i] = (char)lower((unsigned char)name[i]);
	z->name[i] = 0;
	z->type = type;
	memcpy(z->data, data, len);
	z->data[len] = 0;
	z->len = len;
	return 0;
}

static void add_record(struct spf_answer *a, const struct rr *z, int any_txt)
{
	a->n++;
	if (z->type == SPF_T_A || z->type == SPF_T_AAAA) {
		if (a->naddr < SPF_ADDRS_MAX &&
		    inet_pton(z->type == SPF_T_A ? AF_INET : AF_INET6, z->data, a->addr[a->naddr]) == 1)
			a->naddr++;
	} else if (z->type == SPF_T_MX || z->type == SPF_T_PTR) {
		if (a->nname < SPF_NAMES_MAX) {
			size_t l = z->len;
			if (l && z->data[l - 1] == '.')
				l--;
			if (l < 256) {
				memcpy(a->name[a->nname], z->data, l);
				a->name[a->nname++][l] = 0;
			}
		}
	} else if (z->type == SPF_T_TXT) {
		if (any_txt || (z->len >= 6 && !strncasecmp(z->data, "v=spf1", 6) && (z->len == 6 || z->data[6] == ' '))) {
			if (!a->nspf++) {
				memcpy(a->spf, z->data, z->len + 1);
				a->spflen = z->len;
			}
		}
	}
}

/* The zone's answer for name and type; a CNAME is followed once. */
static int zone_lookup(void *ctx, const char *name, unsigned type, struct spf_answer *a)
{
	char low[256];
	size_t i, l = strlen(name);
	int seen = 0, any = 0, timeout = 1, any_txt = type == SPF_T_EXP;
	if (any_txt)
		type = SPF_T_TXT;
	lookups_seen++;
	if (l >= sizeof low)
		return a->status = SPF_DNS_ERROR, 0;
	for (i = 0; i <= l; i++)
		low[i] = (char)lower((unsigned char)name[i]);
	for (i = 0; i < nzone; i++) {
		const struct rr *z = &zone[i];
		if (strcmp(z->name, low) != 0)
			continue;
		any = 1;
		if (z->type == -1) {
			if (timeout) {
				a->status = SPF_DNS_ERROR;
				return 0;
			}
			break;
		}
		if ((unsigned)z->type == type) {
			timeout = 0;
			add_record(a, z, any_txt);
			seen = 1;
		} else if (z->type == 5 && !ctx) {
			struct spf_answer sub;
			memset(&sub, 0, sizeof sub);
			zone_lookup((void *)1, z->data, any_txt ? SPF_T_EXP : type, &sub);
			if (sub.status == SPF_DNS_ERROR) {
				a->status = SPF_DNS_ERROR;
				return 0;
			}
			*a = sub;
			return 0;
		}
	}
	(void)seen;
	if (!any && !strncmp(low, "error.", 6)) {
		a->status = SPF_DNS_ERROR;
		return 0;
	}
	a->status = any ? SPF_DNS_OK : SPF_DNS_NXDOMAIN;
	return 0;
}

static struct spf_request req;

static enum spf_result run(const char *ip, const char *sender, const char *helo)
{
	memset(&req, 0, sizeof req);
	req.iplen = strchr(ip, ':') ? 16 : 4;
	if (inet_pton(req.iplen == 16 ? AF_INET6 : AF_INET, ip, req.ip) != 1)
		return SPF_PERMERROR + 1;
	if (req.iplen == 16 && !memcmp(req.ip, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12)) {
		memmove(req.ip, req.ip + 12, 4);
		req.iplen = 4;
	}
	req.sender = sender;
	req.helo = helo;
	req.lookup = zone_lookup;
	req.explain = 1;
	lookups_seen = 0;
	return spf_check(&req);
}

static int expands(const char *ip, const char *sender, const char *s, const char *want)
{
	char out[512];
	memset(&req, 0, sizeof req);
	req.iplen = strchr(ip, ':') ? 16 : 4;
	inet_pton(req.iplen == 16 ? AF_INET6 : AF_INET, ip, req.ip);
	req.sender = sender;
	req.helo = "mx.example.org";
	req.lookup = zone_lookup;
	if (spf_expand(&req, strrchr(sender, '@') + 1, s, strlen(s), 0, out, sizeof out) == -1)
		return want == 0;
	if (want && strcmp(out, want))
		printf("# %s -> %s, not %s\n", s, out, want);
	return want && !strcmp(out, want);
}

static void txt(const char *name, const char *rec) { zone_add(name, SPF_T_TXT, rec, strlen(rec)); }
static void a(const char *name, const char *ip) { zone_add(name, strchr(ip, ':') ? SPF_T_AAAA : SPF_T_A, ip, strlen(ip)); }

/* --suite: lines "Z" (a new zone), "R NAME TYPE DATA" and "T ID IP SENDER
 * HELO", every field but TYPE and ID in hex, "-" when empty; prints "ID
 * RESULT WHY". */
static int unhex(const char *h, char *out, size_t cap, size_t *len)
{
	size_t n = strlen(h), i;
	if (!strcmp(h, "-"))
		n = 0; /* an empty field */
	if (n % 2 || n / 2 >= cap)
		return -1;
	for (i = 0; i < n / 2; i++) {
		unsigned v;
		if (sscanf(h + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (char)v;
	}
	out[n / 2] = 0;
	*len = n / 2;
	return 0;
}

static int suite(void)
{
	static char line[20000], f1[10000], f2[10000], f3[10000], f4[10000], b1[5000], b2[5000], b3[2000];
	size_t l1, l2, l3;

	while (fgets(line, sizeof line, stdin)) {
		if (line[0] == 'Z') {
			nzone = 0;
		} else if (line[0] == 'R' && sscanf(line, "R %9999s %9999s %9999s", f1, f2, f3) >= 2) {
			static const struct { const char *n; int t; } types[] = {
				{ "A", SPF_T_A }, { "AAAA", SPF_T_AAAA }, { "MX", SPF_T_MX }, { "PTR", SPF_T_PTR },
				{ "TXT", SPF_T_TXT }, { "CNAME", 5 }, { "TIMEOUT", -1 } };
			size_t k;
			if (sscanf(line, "R %9999s %9999s %9999s", f1, f2, f3) == 2)
				f3[0] = 0;
			for (k = 0; k < sizeof types / sizeof types[0] && strcmp(types[k].n, f2); k++)
				;
			if (k == sizeof types / sizeof types[0] || unhex(f1, b1, sizeof b1, &l1) ||
			    unhex(f3, b2, sizeof b2, &l2) || zone_add(b1, types[k].t, b2, l2)) {
				printf("bad line %s", line);
				return 1;
			}
		} else if (line[0] == 'T' && sscanf(line, "T %9999s %9999s %9999s %9999s", f1, f2, f3, f4) == 4) {
			enum spf_result res;
			if (unhex(f3, b1, sizeof b1, &l1) || unhex(f4, b3, sizeof b3, &l3)) {
				printf("bad line %s", line);
				return 1;
			}
			/* <>: the HELO identity (RFC 7208 2.4) */
			if (!l1) {
				snprintf(b1, sizeof b1, "postmaster@%s", b3);
			}
			res = run(f2, b1, b3);
			printf("%s %s ", f1, res <= SPF_PERMERROR ? spf_result_name(res) : "badip");
			for (l1 = 0; req.explanation[l1]; l1++)
				printf("%02x", (unsigned char)req.explanation[l1]);
			printf("%s %s\n", l1 ? "" : "-", req.why);
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--suite"))
		return suite();

	/* RFC 7208 7.4 */
	CHECK(expands("192.0.2.3", "strong-bad@email.example.com", "%{s}", "strong-bad@email.example.com"), "%{s}");
	CHECK(expands("192.0.2.3", "strong-bad@email.example.com", "%{o}", "email.example.com"), "%{o}");
	CHECK(expands("192.0.2.3", "strong-bad@email.example.com", "%{d}", "email.example.com"), "%{d}");
	CHECK(expands("192.0.2.3", "strong-bad@email.example.com", "%{d4}", "email.example.com"), "%{d4}");
	CHECK(expands("192.0.2.3", "strong-bad@email.example.com", "%{d3}", "email.example.com"), "%{d3}");
	CHECK(expands("192.0.2.3", "strong-bad@email.example.com", "%{d2}", "example.com"), "%{d2}");
	CHECK(expands("192.0.2.3", "strong-bad@email.example.com", "%{d1}", "com"), "%{d1}");
	CHECK(expands("192.0.2.3", "strong-bad@email.example.com", "%{dr}", "com.example.email"), "%{dr}");
	CHECK(expands("192.0.2.3", "strong-bad@email.example.com", "%{d2r}", "example.email"), "%{d2r}");
	CHECK(expands("192.0.2.3", "strong-bad@email.example.com", "%{l}", "strong-bad"), "%{l}");
	CHECK(expands("192.0.2.3", "strong-bad@email.example.com", "%{l-}", "strong.bad"), "%{l-}");
	CHECK(expands("192.0.2.3", "strong-bad@email.example.com", "%{lr}", "strong-bad"), "%{lr}");
	CHECK(expands("192.0.2.3", "strong-bad@email.example.com", "%{lr-}", "bad.strong"), "%{lr-}");
	CHECK(expands("192.0.2.3", "strong-bad@email.example.com", "%{l1r-}", "strong"), "%{l1r-}");
	CHECK(expands("192.0.2.3", "strong-bad@email.example.com", "%{ir}.%{v}._spf.%{d2}",
	              "3.2.0.192.in-addr._spf.example.com"), "%{ir}.%{v}._spf.%{d2}");
	CHECK(expands("192.0.2.3", "strong-bad@email.example.com", "%{lr-}.lp._spf.%{d2}",
	              "bad.strong.lp._spf.example.com"), "%{lr-}.lp._spf.%{d2}");
	CHECK(expands("192.0.2.3", "strong-bad@email.example.com", "%{lr-}.lp.%{ir}.%{v}._spf.%{d2}",
	              "bad.strong.lp.3.2.0.192.in-addr._spf.example.com"), "%{lr-}.lp.%{ir}.%{v}._spf.%{d2}");
	CHECK(expands("192.0.2.3", "strong-bad@email.example.com", "%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}",
	              "3.2.0.192.in-addr.strong.lp._spf.example.com"), "%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}");
	CHECK(expands("192.0.2.3", "strong-bad@email.example.com", "%{d2}.trusted-domains.example.net",
	              "example.com.trusted-domains.example.net"), "%{d2}.trusted-domains.example.net");
	CHECK(expands("2001:db8::cb01", "strong-bad@email.example.com", "%{ir}.%{v}._spf.%{d2}",
	              "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com"),
	      "%{ir} of an IPv6 address");
	CHECK(expands("192.0.2.3", "strong-bad@email.example.com", "%%%_%-", "% %20"), "%% %_ %-");
	CHECK(expands("192.0.2.3", "a b+c@email.example.com", "%{L}", "a%20b%2Bc"), "upper case: URL-escaped");
	CHECK(expands("192.0.2.3", "x@email.example.com", "%{d0}", 0), "%{d0}: refused");
	CHECK(expands("192.0.2.3", "x@email.example.com", "%{x}", 0), "%{x}: no such letter");
	CHECK(expands("192.0.2.3", "x@email.example.com", "%{c}", 0), "%{c}: only in exp");
	CHECK(expands("192.0.2.3", "x@email.example.com", "%{d", 0), "unclosed macro");
	CHECK(expands("192.0.2.3", "x@email.example.com", "100%", 0), "lone %");
	CHECK(expands("192.0.2.3", "x@email.example.com", "%a", 0), "%a");
	CHECK(expands("192.0.2.3", "x@email.example.com", "%{d1000000000000000000000}", "email.example.com"),
	      "a huge digit count keeps every part");

	/* a zone: results, syntax, limits */
	nzone = 0;
	txt("pass.example", "v=spf1 ip4:192.0.2.0/24 -all");
	txt("fail.example", "v=spf1 -all");
	txt("soft.example", "v=spf1 ~all");
	txt("neutral.example", "v=spf1 ?all");
	txt("none.example", "some other text");
	txt("two.example", "v=spf1 -all");
	txt("two.example", "v=spf1 +all");
	txt("bad.example", "v=spf1 ip4:192.0.2.300 -all");
	txt("badmech.example", "v=spf1 frob -all");
	txt("late.example", "v=spf1 +all frob:x");
	txt("a.example", "v=spf1 a -all");
	a("a.example", "192.0.2.9");
	a("a.example", "2001:db8::9");
	txt("a6.example", "v=spf1 a//120 -all");
	a("a6.example", "2001:db8::1:ff00");
	txt("mx.example", "v=spf1 mx/24 -all");
	zone_add("mx.example", SPF_T_MX, "mail.mx.example", 15);
	a("mail.mx.example", "198.51.100.1");
	txt("inc.example", "v=spf1 include:pass.example -all");
	txt("incnone.example", "v=spf1 include:nothing.example -all");
	txt("redir.example", "v=spf1 redirect=pass.example");
	txt("redirall.example", "v=spf1 -all redirect=pass.example");
	txt("exists.example", "v=spf1 exists:%{i}.ok.exists.example -all");
	a("192.0.2.7.ok.exists.example", "127.0.0.2");
	txt("loop.example", "v=spf1 include:loop.example -all");
	txt("many.example", "v=spf1 a:a1.example a:a2.example a:a3.example a:a4.example a:a5.example "
	                    "a:a6.example a:a7.example a:a8.example a:a9.example a:a10.example a:a11.example -all");
	for (int i = 1; i <= 11; i++) {
		char n[32];
		snprintf(n, sizeof n, "a%d.example", i);
		a(n, "203.0.113.1");
	}
	txt("voids.example", "v=spf1 a:v1.example a:v2.example a:v3.example -all");
	txt("ptr.example", "v=spf1 ptr -all");
	zone_add("7.2.0.192.in-addr.arpa", SPF_T_PTR, "host.ptr.example", 16);
	a("host.ptr.example", "192.0.2.7");
	zone_add("timeout.example", -1, "", 0);
	txt("dual.example", "v=spf1 a:a.example/24//64 -all");
	txt("up.example", "V=SPF1 IP4:192.0.2.7 -ALL");
	txt("spaces.example", "v=spf1  ip4:192.0.2.7   -all ");
	txt("spf2.example", "v=spf10 +all");
	txt("helo.example", "v=spf1 a:%{h} -all");
	txt("long.example", "v=spf1 a:%{l}%{l}.long.example a:%{l}%{l}.long.example a:%{l}%{l}.long.example "
	                    "ip4:192.0.2.7 -all");
	txt("pexact.example", "v=spf1 exists:%{p}.p.pexact.example -all");
	zone_add("8.2.0.192.in-addr.arpa", SPF_T_PTR, "sub.pexact.example", 18);
	zone_add("8.2.0.192.in-addr.arpa", SPF_T_PTR, "pexact.example", 14);
	a("sub.pexact.example", "192.0.2.8");
	a("pexact.example", "192.0.2.8");
	a("pexact.example.p.pexact.example", "127.0.0.2");
	txt("mx11.example", "v=spf1 mx -all");
	for (int i = 0; i < 11; i++) {
		char n[32];
		snprintf(n, sizeof n, "m%d.mx11.example", i);
		zone_add("mx11.example", SPF_T_MX, n, strlen(n));
	}

	CHECK(run("192.0.2.7", "x@pass.example", "h.example") == SPF_PASS, "ip4 in the network: pass");
	CHECK(run("198.51.100.7", "x@pass.example", "h.example") == SPF_FAIL, "outside: fail");
	CHECK(run("192.0.2.7", "x@soft.example", "h.example") == SPF_SOFTFAIL, "~all: softfail");
	CHECK(run("192.0.2.7", "x@neutral.example", "h.example") == SPF_NEUTRAL, "?all: neutral");
	CHECK(run("192.0.2.7", "x@none.example", "h.example") == SPF_NONE, "no v=spf1 record: none");
	CHECK(run("192.0.2.7", "x@nowhere.example", "h.example") == SPF_NONE, "no such domain: none");
	CHECK(run("192.0.2.7", "x@two.example", "h.example") == SPF_PERMERROR, "two records: permerror");
	CHECK(run("192.0.2.7", "x@bad.example", "h.example") == SPF_PERMERROR, "bad ip4: permerror");
	CHECK(run("192.0.2.7", "x@badmech.example", "h.example") == SPF_PERMERROR, "unknown mechanism: permerror");
	CHECK(run("192.0.2.7", "x@late.example", "h.example") == SPF_PERMERROR,
	      "a syntax error after a match: still permerror");
	CHECK(run("192.0.2.9", "x@a.example", "h.example") == SPF_PASS, "a: pass");
	CHECK(run("2001:db8::9", "x@a.example", "h.example") == SPF_PASS, "a for IPv6: AAAA");
	CHECK(run("::ffff:192.0.2.9", "x@a.example", "h.example") == SPF_PASS, "IPv4-mapped: as IPv4");
	CHECK(run("192.0.2.10", "x@a.example", "h.example") == SPF_FAIL, "a: another address fails");
	CHECK(run("2001:db8::1:ffaa", "x@a6.example", "h.example") == SPF_PASS, "a//120");
	CHECK(run("2001:db8::2:ff00", "x@a6.example", "h.example") == SPF_FAIL, "outside a//120");
	CHECK(run("198.51.100.200", "x@mx.example", "h.example") == SPF_PASS, "mx/24");
	CHECK(run("198.51.101.1", "x@mx.example", "h.example") == SPF_FAIL, "outside mx/24");
	CHECK(run("192.0.2.7", "x@inc.example", "h.example") == SPF_PASS, "include: pass");
	CHECK(run("198.51.100.7", "x@inc.example", "h.example") == SPF_FAIL, "include's fail: no match, -all");
	CHECK(run("192.0.2.7", "x@incnone.example", "h.example") == SPF_PERMERROR, "include of none: permerror");
	CHECK(run("192.0.2.7", "x@redir.example", "h.example") == SPF_PASS, "redirect");
	CHECK(run("192.0.2.7", "x@redirall.example", "h.example") == SPF_FAIL, "redirect after all: not used");
	CHECK(run("192.0.2.7", "x@exists.example", "h.example") == SPF_PASS, "exists with %{i}");
	CHECK(run("192.0.2.8", "x@exists.example", "h.example") == SPF_FAIL, "exists: no record");
	CHECK(run("192.0.2.7", "x@loop.example", "h.example") == SPF_PERMERROR && lookups_seen <= 12,
	      "an include loop ends at 10 lookups: permerror");
	CHECK(run("203.0.113.1", "x@many.example", "h.example") == SPF_PASS, "10 lookups: allowed");
	CHECK(run("203.0.113.2", "x@many.example", "h.example") == SPF_PERMERROR, "11 lookups: permerror");
	CHECK(strstr(req.why, "more than 10 DNS lookups") != 0, "and says so");
	CHECK(run("203.0.113.2", "x@voids.example", "h.example") == SPF_PERMERROR, "3 void lookups: permerror");
	CHECK(run("192.0.2.7", "x@ptr.example", "h.example") == SPF_PASS, "ptr: validated name");
	CHECK(run("192.0.2.8", "x@ptr.example", "h.example") == SPF_FAIL, "ptr: no name");
	CHECK(run("192.0.2.7", "x@timeout.example", "h.example") == SPF_TEMPERROR, "a timeout: temperror");
	CHECK(run("192.0.2.200", "x@dual.example", "h.example") == SPF_PASS, "a:DOMAIN/24//64");
	CHECK(run("192.0.2.7", "x@up.example", "h.example") == SPF_PASS, "upper case: the same");
	CHECK(run("192.0.2.7", "x@spaces.example", "h.example") == SPF_PASS, "runs of spaces");
	CHECK(run("192.0.2.7", "x@spf2.example", "h.example") == SPF_NONE, "v=spf10 is not v=spf1");
	CHECK(run("192.0.2.7", "x@[192.0.2.7]", "h.example") == SPF_NONE, "an address literal: none");
	CHECK(run("192.0.2.7", "x@localhost", "h.example") == SPF_NONE, "one label: none");
	CHECK(run("192.0.2.7", "x@helo.example", "mx.ex.org..") == SPF_FAIL,
	      "a name with an empty label at its end: asked nothing, no temperror");
	CHECK(run("192.0.2.7", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@long.example", "h.example") == SPF_PASS,
	      "names too long to ask: no void lookups");
	CHECK(run("192.0.2.8", "x@pexact.example", "h.example") == SPF_PASS, "%{p}: the domain itself beats a subdomain");
	CHECK(run("192.0.2.8", "x@mx11.example", "h.example") == SPF_PERMERROR, "an mx of 11 names: permerror");
	CHECK(spf_identity_ok("mx.example.org", 14) && spf_identity_ok("mx.example.org.", 15) &&
	      !spf_identity_ok("192.0.2.7", 9) && !spf_identity_ok("x@victim.example", 16) &&
	      !spf_identity_ok("localhost", 9) && spf_identity_ok("a.b-1", 5),
	      "identities: a domain, not an address, not with an @, not one label");
	CHECK(run("192.0.2.7", "@pass.example", "h.example") == SPF_PASS && !strcmp(req.sender, "@pass.example"),
	      "no local part: postmaster's, and the caller's sender is left as it was");
	return check_done();
}
