/* postern-inject's address-list parser (To, Cc, Bcc with -t) and
 * postern-qstat's terminal-safe output, built from the programs' own files. */
#include <string.h>
#include "check.h"
#include "postern-inject/addrlist.c"
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
	return check_done();
}
