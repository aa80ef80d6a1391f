/* postern-lspawn's user lookup and its cache (src/postern-lspawn/who.c),
 * against this machine's own users.  Room for one group at first, so any
 * user in two groups takes the path that grows the list; a cache of 8, so
 * the users of any machine make it forget. */
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#define GROUPS_FIRST 1
#define WHO_MAX 8
#include "postern-lspawn/who.c"

#define NAMES 200

/* who_get agrees with getpwnam and a getgrouplist given all the room. */
static int agrees(const char *name)
{
	static gid_t all[NGROUPS_MAX];
	struct who w;
	struct passwd *pw;
	int n = NGROUPS_MAX;

	if (who_get(name, &w) != 1 || !(pw = getpwnam(name)))
		return 0;
	if (strcmp(w.name, pw->pw_name) != 0 || strcmp(w.home, pw->pw_dir) != 0 || w.uid != pw->pw_uid ||
	    w.gid != pw->pw_gid)
		return 0;
	if (getgrouplist(name, pw->pw_gid, all, &n) == -1)
		return 0;
	return w.ngroups == (size_t)n && memcmp(w.groups, all, (size_t)n * sizeof *all) == 0;
}

int main(void)
{
	static char *names[NAMES];
	struct passwd *pw;
	struct who w, w2;
	size_t n = 0, i, bad = 0, multi = 0;
	int r;

	r = who_get("root", &w);
	CHECK(r == 1 && w.uid == 0 && w.gid == 0 && strcmp(w.name, "root") == 0, "root found");
	CHECK(r == 1 && w.ngroups >= 1 && memchr(w.groups, 0, w.ngroups * sizeof *w.groups), "root's groups hold gid 0");
	CHECK(who_get("ptnosuchuserx9", &w2) == 0, "a missing user is 0");
	r = who_get("root", &w2);
	CHECK(r == 1 && w2.groups == w.groups && w2.ngroups == w.ngroups, "root again: from the cache");

	setpwent();
	while (n < NAMES && (pw = getpwent()))
		if (!(names[n++] = strdup(pw->pw_name)))
			return 1;
	endpwent();
	for (i = 0; i < n; i++) {
		if (!agrees(names[i]))
			bad++;
		else if (who_get(names[i], &w) == 1 && w.ngroups > 1)
			multi++;
	}
	printf("# %zu users, %zu in more than one group\n", n, multi);
	CHECK(n > 0 && bad == 0, "every user of this machine as getpwnam and getgrouplist say");
	CHECK(agrees("root"), "root still right after the cache forgot it");
	for (i = 0; i < n; i++)
		free(names[i]);
	return check_done();
}
