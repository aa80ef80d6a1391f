/* The admin runs postern-passwd as root; it becomes postern-auth before it
 * reads the password or a byte of the file, so the file it writes is
 * postern-auth's, and root never parses it.  Run as another user, it
 * works only as the owner of secret/auth: postern-auth itself, or the
 * user a test gives a scratch HOME to.  It is never meant to be setuid. */
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>
#include "passwd.h"
#include "conf.h"
#include "die.h"

void become(const char *dir)
{
	struct passwd *pw;
	struct stat st;

	if (getuid() != geteuid() || getgid() != getegid())
		die(100, "fatal: refusing to run setuid or setgid");
	if (geteuid() != 0) {
		if (lstat(dir, &st) == -1)
			die_sys(111, "fatal: unable to stat ", dir);
		if (st.st_uid != geteuid())
			die(100, "fatal: run me as root, or as the owner of ", dir);
		return;
	}
	pw = getpwnam(conf_users[USER_AUTH]);
	if (!pw)
		die(111, "fatal: unknown user ", conf_users[USER_AUTH], ": run ./install");
	if (pw->pw_uid == 0 || pw->pw_gid == 0)
		die(111, "fatal: ", conf_users[USER_AUTH], " has uid or gid 0");
	if (setgroups(1, &pw->pw_gid) == -1 || setgid(pw->pw_gid) == -1 || setuid(pw->pw_uid) == -1)
		die_sys(111, "fatal: unable to become ", conf_users[USER_AUTH]);
	if (setuid(0) == 0)
		die(111, "fatal: still able to become root after setuid");
}
