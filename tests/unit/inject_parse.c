/* postern-inject's address-list parser (To, Cc, Bcc with -t), its DSN
 * options (-N, -R, -V) as envelope records, and
 * postern-qstat's terminal-safe output, built from the programs' own files. */
#include <string.h>
#include "check.h"
#include "postern-inject/addrlist.c"
#include "postern-inject/dsnopt.c"
#include "postern-qstat/safe.c"

static int parsed(const char *in, const char *want, size_t wantlen)
{
	struct str out = STR_INIT;
	int ok = addrlist_parse(in, strlen(in), &out) && out.len == wantlen &&
	         (wantlen == 0 || memcmp(out.s, want, wantlen) == 0);
	if (!ok)
		printf("# parsed %s -> [%.*s]\n", in, (int)out.len, out.s ? out.s : "");
	str_free(&out);
	return ok;
}
#define P(in, lit) parsed((in), (lit), sizeof(lit) - 1)

/* The records -N, -R, -V make: mail's (R, E) and rcpt's (N), byte-exact. */
static int dsnopt(const char *n, const char *r, const char *v, const char *wm, size_t wml, const char *wr, size_t wrl)
{
	struct str m = STR_INIT, rc = STR_INIT;
	const char *why = 0;
	int ok = dsnopt_records(n, r, v, &m, &rc, &why) == 1 && m.len == wml && rc.len == wrl &&
	         memcmp(m.s, wm, wml) == 0 && memcmp(rc.s, wr, wrl) == 0;
	str_free(&m);
	str_free(&rc);
	return ok;
}
#define D(n, r, v, m, rc) dsnopt((n), (r), (v), (m), sizeof(m) - 1, (rc), sizeof(rc) - 1)

/* A refused value: -1 and a reason that starts with the option. */
static int dsnopt_bad(const char *n, const char *r, const char *v, const char *opt)
{
	struct str m = STR_INIT, rc = STR_INIT;
	const char *why = "";
	int ok = dsnopt_records(n, r, v, &m, &rc, &why) == -1 && strncmp(why, opt, 2) == 0;
	str_free(&m);
	str_free(&rc);
	return ok;
}

int main(void)
{
	struct str s = STR_INIT;

	CHECK(P("a@b.c", "a@b.c\0"), "bare address");
	CHECK(P(" a@b.c , d@e.f ", "a@b.c\0d@e.f\0"), "two, with blanks");
	CHECK(P("\"Doe, John\" <j@x.org>, Ann <ann@y.org>", "j@x.org\0ann@y.org\0"), "display names, quoted comma");
	CHECK(P("j@x.org (John, the (nested) one), k@y.org", "j@x.org\0k@y.org\0"), "comments dropped");
	CHECK(P("friends: a@b.c, d@e.f;, g@h.i", "a@b.c\0d@e.f\0g@h.i\0"), "group");
	CHECK(P("undisclosed-recipients:;", ""), "empty group");
	CHECK(P("<@relay.org,@r2.org:u@d.org>", "u@d.org\0"), "source route stripped");
	CHECK(P("u@[IPv6:::1], v@w.x", "u@[IPv6:::1]\0v@w.x\0"), "address literal with colons");
	CHECK(P("bob", "bob\0"), "unqualified kept for qualification");
	CHECK(P("", "") && P(" , ,", ""), "empty list");
	CHECK(P("A\n\t<a@b.c>", "a@b.c\0"), "folded");
	CHECK(P("a b@c.d", "a b@c.d\0") && P("a(x)b@c.d", "a b@c.d\0"), "blanks inside an address kept, for addr_check to refuse");
	CHECK(P("John Q. Public <jqp@x.org>", "jqp@x.org\0"), "blanks in a display name dropped with it");
	CHECK(P("\"a b\"@c.d", "\"a b\"@c.d\0"), "quoted local part kept whole");

	CHECK(cat_safe(&s, "a@b\x1b[31m", 8) && str_equals(&s, "a@b\\x1b[31m"), "escape sequence escaped");
	s.len = 0;
	CHECK(cat_safe(&s, "j\xc3\xb6rg", 5) && str_equals(&s, "j\xc3\xb6rg"), "UTF-8 kept");
	s.len = 0;
	CHECK(cat_safe(&s, "\xc2\x9b", 2) && str_equals(&s, "\\xc2\\x9b"), "C1 control (CSI) escaped");
	s.len = 0;
	CHECK(cat_safe(&s, "\xe0\x80\xaf", 3) && str_equals(&s, "\\xe0\\x80\\xaf"), "overlong UTF-8 escaped");
	str_free(&s);

	CHECK(D(0, 0, 0, "", ""), "no DSN option: no record");
	CHECK(D("delay,Success", "full", "my id+1=2", "RFULL\0Emy+20id+2B1+3D2\0", "NSUCCESS,DELAY\0"),
	      "-N -R -V: R, E as xtext, N canonical");
	CHECK(D("NEVER", "Hdrs", 0, "RHDRS\0", "NNEVER\0") && D(0, 0, "\xc3\xa9", "E+C3+A9\0", ""), "each alone");
	{
		char v[102];
		memset(v, 'v', 100);
		v[100] = 0;
		{
			struct str m = STR_INIT, rc = STR_INIT;
			const char *why;
			CHECK(dsnopt_records(0, 0, v, &m, &rc, &why) == 1 && m.len == 102 && m.s[0] == 'E' && rc.len == 0,
			      "-V of 100 bytes");
			str_free(&m);
			str_free(&rc);
		}
		v[100] = 'v';
		v[101] = 0;
		CHECK(dsnopt_bad(0, 0, v, "-V"), "-V of 101 bytes refused");
		memset(v, ' ', 34);
		v[34] = 0;
		CHECK(dsnopt_bad(0, 0, v, "-V"), "-V of 34 spaces refused: 102 bytes as xtext");
	}
	CHECK(dsnopt_bad("never,success", 0, 0, "-N") && dsnopt_bad("", 0, 0, "-N") && dsnopt_bad("x", 0, 0, "-N") &&
	      dsnopt_bad(0, "body", 0, "-R") && dsnopt_bad(0, "", 0, "-R") && dsnopt_bad(0, 0, "", "-V"),
	      "bad -N, -R, -V refused");
	return check_done();
}
