/* Which recipients are local (src/postern-send/route.c) */
#include <string.h>
#include "check.h"
#include "postern-send/route.c"

static int lookups;

static int fake(const char *name, unsigned long long *uid)
{
	static const struct { const char *n; unsigned long long u; } users[] = {
		{ "alice", 1000 }, { "bob", 1001 }, { "bob-x", 1002 }, { "daemon", 1 }, { "root", 0 },
		{ "postern-alias", 990 }, { "a.b", 1003 },
	};
	size_t i;
	lookups++;
	for (i = 0; i < sizeof users / sizeof users[0]; i++)
		if (strcmp(users[i].n, name) == 0) {
			*uid = users[i].u;
			return 1;
		}
	return 0;
}

static struct route_conf c;

static int is(const char *addr, int kind, const char *user, const char *ext)
{
	struct str u = STR_INIT, e = STR_INIT;
	int r = route(&c, addr, strlen(addr), &u, &e), before = lookups, local;
	int ok = r == kind && (kind == ROUTE_REMOTE || (strcmp(u.s, user) == 0 && strcmp(e.s, ext) == 0));

	/* route_is_local (postern-send's reports) says the same, asking for no user */
	local = route_is_local(&c, addr, strlen(addr));
	ok = ok && local == (kind == ROUTE_LOCAL) && lookups == before;
	if (!ok)
		printf("# %s: kind %d user %s ext %s\n", addr, r, u.s ? u.s : "-", e.s ? e.s : "-");
	str_free(&u);
	str_free(&e);
	return ok;
}

int main(void)
{
	check_list(&c.locals, "mx.example.org", "localhost");
	check_list(&c.virtuals, "virt.example", ".sub.virt.example");
	str_copys(&c.seps, "-");
	c.minuid = 1000;
	c.vmail = "postern-vmail";
	c.alias = "postern-alias";
	c.lookup = fake;

	CHECK(is("alice@mx.example.org", ROUTE_LOCAL, "alice", ""), "user");
	CHECK(is("Alice@MX.Example.ORG", ROUTE_LOCAL, "alice", ""), "user, any case");
	CHECK(is("alice-list@localhost", ROUTE_LOCAL, "alice", "list"), "user-ext");
	CHECK(is("alice-Foo-Bar@localhost", ROUTE_LOCAL, "alice", "foo-bar"), "user-ext-ext, lower-cased");
	CHECK(is("bob-x-y@localhost", ROUTE_LOCAL, "bob-x", "y"), "longest prefix that is a user");
	CHECK(is("bob-y@localhost", ROUTE_LOCAL, "bob", "y"), "shorter prefix");
	CHECK(is("bob-x@localhost", ROUTE_LOCAL, "bob-x", ""), "whole local part is a user");
	CHECK(is("alice+x@localhost", ROUTE_LOCAL, "postern-alias", "alice+x"), "+ is no separator by default");
	CHECK(is("postmaster@localhost", ROUTE_LOCAL, "postern-alias", "postmaster"), "unknown: alias");
	CHECK(is("daemon@localhost", ROUTE_LOCAL, "postern-alias", "daemon"), "uid below minuid: alias");
	CHECK(is("root@localhost", ROUTE_LOCAL, "postern-alias", "root"), "root: alias");
	CHECK(is("postern-alias@localhost", ROUTE_LOCAL, "postern-alias", "postern-alias"), "system user: alias");
	CHECK(is("../etc@localhost", ROUTE_LOCAL, "postern-alias", "../etc"), "odd local part: alias");
	CHECK(is("a.b@localhost", ROUTE_LOCAL, "a.b", ""), "dots in user names");
	CHECK(is("Info@Virt.Example", ROUTE_LOCAL, "postern-vmail", "info"), "virtual domain");
	CHECK(is("x@a.sub.virt.example", ROUTE_LOCAL, "postern-vmail", "x"), "virtual subdomain");
	CHECK(is("x@sub.virt.example", ROUTE_REMOTE, 0, 0), ".domain does not match itself");
	CHECK(is("alice@example.org", ROUTE_REMOTE, 0, 0), "other domain: remote");
	CHECK(is("alice@mx.example.org.evil", ROUTE_REMOTE, 0, 0), "suffix is not a match");
	CHECK(is("a@b@localhost", ROUTE_LOCAL, "postern-alias", "a@b"), "last @ splits");
	str_copys(&c.seps, "-+");
	CHECK(is("alice+x@localhost", ROUTE_LOCAL, "alice", "x"), "+ when control/separators has it");
	c.minuid = 1002;
	CHECK(is("alice@localhost", ROUTE_LOCAL, "postern-alias", "alice"), "minuid raised");
	CHECK(is("bob-x-1@localhost", ROUTE_LOCAL, "bob-x", "1"), "minuid: user above");
	{
		char longlp[100];
		memset(longlp, 'a', 40);
		memcpy(longlp + 40, "@localhost", 11);
		CHECK(is(longlp, ROUTE_LOCAL, "postern-alias", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
		      "names over 32 bytes are never looked up");
	}
	str_free(&c.locals);
	str_free(&c.virtuals);
	str_free(&c.seps);
	return check_done();
}
