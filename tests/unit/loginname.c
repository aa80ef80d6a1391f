/* src/lib/loginname.c: which POP3 login names are taken, and as what. */
#include <string.h>
#include "check.h"
#include "lib/loginname.c"

static int kind(const char *s)
{
	size_t at = 999;
	int k = login_name(s, strlen(s), &at);
	return k == 2 && at != (size_t)(strchr(s, '@') - s) ? -1 : k;
}

int main(void)
{
	char long_name[300];

	CHECK(kind("alice") == 1, "a Unix name");
	CHECK(kind("Alice_B.c-d9") == 1, "upper case, digits, . _ - in a Unix name");
	CHECK(kind("") == 0, "empty");
	CHECK(kind(".alice") == 0 && kind("-alice") == 0, "a leading dot or dash");
	CHECK(kind("al ice") == 0 && kind("al/ice") == 0 && kind("al+ice") == 0, "blank, slash, plus in a Unix name");
	memset(long_name, 'a', 64);
	long_name[64] = 0;
	CHECK(kind(long_name) == 1, "64 bytes");
	long_name[64] = 'a';
	long_name[65] = 0;
	CHECK(kind(long_name) == 0, "65 bytes");
	CHECK(kind("demo@demo.postern.test") == 2, "a virtual mailbox, and the offset of its @");
	CHECK(kind("joe+tag@x.org") == 2 && kind("j.o_e-1@x-y.org") == 2, "+ . _ - in a local part, - in a domain");
	CHECK(kind("Demo@x.org") == 0 && kind("demo@X.org") == 0, "upper case in a virtual name");
	CHECK(kind("@x.org") == 0 && kind("demo@") == 0, "an empty local part or domain");
	CHECK(kind(".demo@x.org") == 0, "a local part starting with a dot");
	CHECK(kind("demo@.x.org") == 0 && kind("demo@x..org") == 0 && kind("demo@x.org.") == 0,
	      "empty labels in the domain");
	CHECK(kind("demo@-x.org") == 0 && kind("demo@x.-org") == 0, "a label starting with a dash");
	CHECK(kind("a@b@c.org") == 0, "two @");
	CHECK(kind("demo@x/y") == 0 && kind("de/mo@x.org") == 0, "a slash anywhere");
	CHECK(kind("demo@x_y.org") == 0, "an underscore in the domain");
	CHECK(login_name("alice\0x", 7, &(size_t){ 0 }) == 0, "a NUL");
	memset(long_name, 'a', 64);
	long_name[64] = '@';
	memset(long_name + 65, 'b', 190);
	long_name[255] = 0;
	CHECK(kind(long_name) == 2, "64 + 1 + 190 bytes: the longest name");
	long_name[255] = 'b';
	long_name[256] = 0;
	CHECK(kind(long_name) == 0, "a domain of 191 bytes");
	return check_done();
}
