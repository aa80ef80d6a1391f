/* Who postern-pop3d becomes, and on which mailbox (doc/pop3.md, "Names").
 * Looked up afresh at each login: logins are few (each costs postern-auth
 * an argon2id verification of tens of milliseconds, one at a time), so the
 * 0.1 ms of a getpwnam and a getgrouplist buys a removed user, a new
 * group or a new home taking effect at the next login, with no cache to
 * go stale.  control/virtualdomains is read at each virtual login for the
 * same reason. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>
#include "pspawn.h"
#include "addr.h"
#include "conf.h"
#include "control.h"
#include "home.h"
#include "identity.h"
#include "loginname.h"
#include "str.h"

/* The kernel takes at most NGROUPS_MAX at setgroups, as many as
 * POSTERN_IDENTITY may name; a user in more is refused, where initgroups
 * would drop the rest unsaid. */
#define GROUPS_MAX IDENTITY_GROUPS_MAX
static gid_t groups[GROUPS_MAX];
static struct str name, home, virtuals;
static const char no_user[] = "no such user";

/* The passwd entry of user, its ids and groups in *a: 0, or why not.
 * Root's uid or group would make postern-pop3d root's too; (uid_t)-1
 * means "unchanged" to setresuid, and POSTERN_IDENTITY refuses it. */
static const char *ids(const char *user, struct account *a)
{
	struct passwd *pw;
	int n = GROUPS_MAX, i;

	errno = 0;
	pw = getpwnam(user);
	if (!pw)
		return errno && errno != ENOENT && errno != ESRCH ? "unable to look up the user" : no_user;
	if (pw->pw_uid == 0)
		return "refusing to start postern-pop3d as root";
	if (pw->pw_uid == (uid_t)-1 || pw->pw_gid == (gid_t)-1)
		return "the user's uid or gid is -1";
	if (pw->pw_gid == 0)
		return "the user's group is root's (gid 0)";
	a->uid = pw->pw_uid;
	a->gid = pw->pw_gid;
	/* what getgrouplist needs of *pw, copied first: it may reuse the buffer */
	if (!str_copys(&name, pw->pw_name) || !str_copys(&home, pw->pw_dir))
		return "out of memory";
	if (getgrouplist(name.s, a->gid, groups, &n) == -1 || n < 0 || n > GROUPS_MAX)
		return "the user is in more groups than the kernel allows";
	for (i = 0; i < n; i++) {
		if (groups[i] == 0)
			return "the user is in group 0 (root's)";
		if (groups[i] == (gid_t)-1)
			return "the user is in group -1";
	}
	a->groups = groups;
	a->ngroups = (size_t)n;
	return 0;
}

static const char *unix_user(const char *login, unsigned long long minuid, struct account *a)
{
	size_t at;
	const char *why = ids(login, a);

	if (why)
		return why;
	if (a->uid < minuid)
		return "uid below control/minuid";
	if (home.s[0] != '/')
		return "the user's home is not an absolute path";
	/* USER for postern-pop3d: a name it could have been asked for */
	if (login_name(name.s, name.len, &at) != 1)
		return "the user's name in the passwd database is not a valid login name";
	a->name = name.s;
	a->home = home.s;
	return 0;
}

/* LOCAL@DOMAIN: postern-vmail on HOME/vmail/DOMAIN/LOCAL, the mailbox
 * postern-local's virtual mode delivers LOCAL@DOMAIN to.  This install's
 * vmail/, not postern-vmail's passwd home, which may name another install
 * (as postern-lspawn does).  login_name allowed neither a / nor a leading
 * dot in either part, nor an empty label: the path stays under vmail/. */
static const char *virtual_box(const char *login, size_t at, struct account *a)
{
	static struct str box;
	struct stat st;
	const char *domain = login + at + 1, *why;

	if (control_lines("virtualdomains", &virtuals) == -1)
		return "unable to read control/virtualdomains";
	if (!domain_listed(domain, strlen(domain), &virtuals))
		return "no such virtual domain";
	if ((why = ids(conf_users[USER_VMAIL], a)))
		return why == no_user ? "the virtual mailboxes' user is unknown: run ./install" : why;
	if (!home_path(&box, "vmail") || !str_catc(&box, '/') || !str_cats(&box, domain) || !str_catc(&box, '/') ||
	    !str_catb(&box, login, at))
		return "out of memory";
	/* as root, but only whether it is there: postern-pop3d enters it as
	 * postern-vmail */
	if (stat(box.s, &st) == -1)
		return errno == ENOENT || errno == ENOTDIR ? "no such mailbox" : "unable to look up the mailbox";
	if (!S_ISDIR(st.st_mode))
		return "no such mailbox";
	a->name = login;
	a->home = box.s;
	return 0;
}

const char *account_get(const char *login, unsigned long long minuid, struct account *a)
{
	size_t at;

	switch (login_name(login, strlen(login), &at)) {
	case 1: return unix_user(login, minuid, a);
	case 2: return virtual_box(login, at, a);
	}
	return "malformed login name"; /* record_parse let none in */
}
