/* POSTERN_IDENTITY (src/lib/identity.c), postern-local's and postern-pop3d's: the form
 * postern-lspawn writes is read back exactly, and nothing else is read at
 * all.  identity_take itself is tested end to end by every delivery in
 * tests/t-send.sh and tests/t-uids.sh (as root), and run unprivileged here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "check.h"
#include "../../src/lib/identity.c"

static int parses(const char *s, uid_t u, gid_t g, size_t n, const gid_t *groups)
{
	struct identity id;
	int ok = identity_parse(s, &id) == 1 && id.uid == u && id.gid == g && id.ngroups == n &&
	         (n == 0 ? id.groups == 0 : memcmp(id.groups, groups, n * sizeof *groups) == 0);
	free(id.groups);
	return ok;
}

static int refused(const char *s)
{
	struct identity id;
	return identity_parse(s, &id) == 0 && id.groups == 0;
}

int main(void)
{
	static const gid_t one[] = { 1000 }, three[] = { 1000, 4, 0 }, big[] = { 4294967294u };
	static char many[(IDENTITY_GROUPS_MAX + 1) * 2 + 16];
	size_t i, n;
	char env[64];

	CHECK(parses("1000:1000:1000", 1000, 1000, 1, one), "uid, gid and one group");
	CHECK(parses("1000:1000:1000,4,0", 1000, 1000, 3, three), "three groups, 0 among them");
	CHECK(parses("1000:1000:", 1000, 1000, 0, 0), "no supplementary groups");
	CHECK(parses("4294967294:0:4294967294", 4294967294u, 0, 1, big), "the largest id that is not -1");
	CHECK(refused("4294967295:1:1"), "uid -1 (setuid's 'unchanged') refused");
	CHECK(refused("1:4294967295:"), "gid -1 refused");
	CHECK(refused("1:1:4294967295"), "group -1 refused");
	CHECK(refused("99999999999:1:1"), "an id beyond 32 bits refused");
	CHECK(refused(""), "empty refused");
	CHECK(refused("1000:1000"), "no group field refused");
	CHECK(refused(":1000:1000"), "empty uid refused");
	CHECK(refused("1000::1000"), "empty gid refused");
	CHECK(refused("1000:1000:1000,"), "trailing comma refused");
	CHECK(refused("1000:1000:,1000"), "empty group refused");
	CHECK(refused("1000:1000:1000,,4"), "empty group in the middle refused");
	CHECK(refused("+1000:1000:"), "a sign refused");
	CHECK(refused("-1:1000:"), "a minus refused");
	CHECK(refused(" 1000:1000:"), "a blank refused");
	CHECK(refused("1000:1000: 4"), "a blank before a group refused");
	CHECK(refused("01000:1000:"), "a leading zero refused");
	CHECK(refused("1000:1000:1000:5"), "a fourth field refused");
	CHECK(refused("1000:1000:4\n"), "a newline refused");
	CHECK(refused("0x10:1:"), "hexadecimal refused");

	/* at the kernel's limit, and one beyond it */
	memcpy(many, "5:5:", 4);
	n = 4;
	for (i = 0; i < IDENTITY_GROUPS_MAX; i++) {
		many[n++] = '7';
		many[n++] = ',';
	}
	many[n - 1] = 0;
	{
		struct identity id;
		CHECK(identity_parse(many, &id) == 1 && id.ngroups == IDENTITY_GROUPS_MAX && id.groups[0] == 7 &&
		      id.groups[IDENTITY_GROUPS_MAX - 1] == 7, "65,536 groups read");
		free(id.groups);
	}
	many[n - 1] = ',';
	many[n] = '7';
	many[n + 1] = 0;
	CHECK(refused(many), "65,537 groups refused");

	/* identity_take, unprivileged: who we are is kept, anyone else refused */
	if (getuid() != 0) {
		unsetenv(IDENTITY_VAR);
		CHECK(identity_take() == 0, "unprivileged, no variable: runs as itself");
		snprintf(env, sizeof env, "%u:%u:", (unsigned)getuid(), (unsigned)getgid());
		setenv(IDENTITY_VAR, env, 1);
		CHECK(identity_take() == 0 && !getenv(IDENTITY_VAR), "unprivileged, its own identity: runs, variable gone");
		snprintf(env, sizeof env, "%u:%u:", (unsigned)getuid() + 1, (unsigned)getgid());
		setenv(IDENTITY_VAR, env, 1);
		CHECK(identity_take() != 0, "unprivileged, another uid: refused");
	} else {
		unsetenv(IDENTITY_VAR);
		CHECK(identity_take() != 0 && getuid() == 0, "root without the variable: refused, still root");
		setenv(IDENTITY_VAR, "0:0:", 1);
		CHECK(identity_take() != 0 && getuid() == 0, "root asked to stay root: refused");
		setenv(IDENTITY_VAR, "65534:65534:x", 1);
		CHECK(identity_take() != 0 && getuid() == 0, "root with a malformed identity: refused, still root");
	}
	return check_done();
}
