/* The admin runs postern-passwd as root.  Root changes the roster,
 * HOME/users/pop3, root's own file, which postern-auth must not be able to
 * write; then the program becomes postern-auth for good before it reads a
 * byte of the password file, so the file it writes is postern-auth's, and
 * root never parses it.  Run as another user, it works only as the owner
 * of secret/auth, and to change the roster, of users/ as well: in an
 * install that is root's, so postern-auth itself may list the names but
 * not add one, and only a test's scratch HOME, all its own, allows both.
 * It is never meant to be setuid. */
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>
#include "passwd.h"
#include "conf.h"
#include "die.h"

static void owned(const char *dir, const char *why)
{
	struct stat st;

	if (lstat(dir, &st) == -1)
		die_sys(111, "fatal: unable to stat ", dir);
	if (st.st_uid != geteuid())
		die(100, "fatal: ", why, dir);
}

void who_runs(const char *authdir, const char *usersdir, int roster, struct who *w)
{
	struct passwd *pw;

	if (getuid() != geteuid() || getgid() != getegid())
		die(100, "fatal: refusing to run setuid or setgid");
	w->root = geteuid() == 0;
	if (!w->root) {
		owned(authdir, "run me as root, or as the owner of ");
		if (roster)
			owned(usersdir, "only root may change the POP3 roster: run me as root, or as the owner of ");
		return;
	}
	pw = getpwnam(conf_users[USER_AUTH]);
	if (!pw)
		die(111, "fatal: unknown user ", conf_users[USER_AUTH], ": run ./install");
	if (pw->pw_uid == 0 || pw->pw_gid == 0)
		die(111, "fatal: ", conf_users[USER_AUTH], " has uid or gid 0");
	w->uid = pw->pw_uid;
	w->gid = pw->pw_gid;
}

void become(const struct who *w)
{
	if (!w->root)
		return;
	if (setgroups(1, &w->gid) == -1 || setgid(w->gid) == -1 || setuid(w->uid) == -1)
		die_sys(111, "fatal: unable to become ", conf_users[USER_AUTH]);
	if (setuid(0) == 0)
		die(111, "fatal: still able to become root after setuid");
}
