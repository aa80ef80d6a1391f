/* postern-mkrcpt: writes HOME/users/rcpt.cdb, the table of the addresses
 * postern-smtpd accepts at local and virtual domains.
 *
 * usage: postern-mkrcpt        (as root, after adding users, dot files or
 *                               virtual mailboxes; ./install runs it too)
 *
 * postern-smtpd must refuse an unknown local recipient at RCPT time (else the
 * bounce goes to a forged sender: backscatter), yet it must not read home
 * directories or the password database.  So root compiles what delivery
 * would find into a cdb that tells the smtpd only yes or no per key
 * (doc/smtp.md, "Recipient table"):
 *   U<user>             a Unix user with uid >= control/minuid (not root)
 *   E<user>\0<ext>      ~user/.postern-<ext>
 *   D<user>\0<prefix>   ~user/.postern-<prefix>default (prefix "" or ending in '-')
 *   the same E and D keys with an empty <user> for HOME/alias (postern-alias)
 *   V<domain>/<local>   HOME/vmail/<domain>/<local>/ (a virtual mailbox)
 * The table is root's, mode 0640, in the one primary group of its readers,
 * postern-smtpd and postern-submit; a run fails if they have two.
 * The file is written beside the old one, fsync'ed and renamed over it, so
 * a running smtpd always sees a whole table.  Runs hold a lock on users/
 * from before the scan to after the rename: two runs that overlapped would
 * share rcpt.cdb.tmp (one renaming the other's half-written file), and the
 * later scan must be the table that stays. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cdb.h"
#include "conf.h"
#include "control.h"
#include "die.h"
#include "file.h"
#include "fmt.h"
#include "home.h"
#include "io.h"
#include "log.h"

#define USAGE "postern-mkrcpt"

static struct cdb_make cm = CDB_MAKE_INIT;
static unsigned long long nkeys;
static unsigned long long unreadable; /* homes root could not list */

static void add(char type, const char *a, size_t an, int sep, const char *b, size_t bn)
{
	struct str k = STR_INIT;
	if (!str_catc(&k, type) || !str_catb(&k, a, an) || (sep && !str_catz(&k)) || !str_catb(&k, b, bn) ||
	    !cdb_make_add(&cm, k.s, k.len, "", 0))
		die_nomem();
	str_free(&k);
	nkeys++;
}

/* Only names delivery can match: postern-send lower-cases the local part. */
static int usable(const char *s, size_t n)
{
	size_t i;
	if (n == 0 || n > 1000)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c >= 'A' && c <= 'Z') || c <= 0x20 || c == 0x7f || c == '/' || c == '@')
			return 0;
	}
	return 1;
}

/* The .postern-* files of one home (user "" is the alias home). */
static void scan_home(const char *home, const char *user, size_t ul)
{
	DIR *d = opendir(home);
	struct dirent *e;

	if (!d) {
		/* No home, no dot files.  But a home root cannot list (NFS
		 * with root_squash, an LSM, a container without
		 * CAP_DAC_READ_SEARCH) may hold some, and leaving them out
		 * would make the smtpd answer 550 for real addresses: main
		 * keeps the old table then, after naming every such home. */
		if (errno == EACCES) {
			warn_sys("warning: unable to read the home of ", ul ? user : conf_users[USER_ALIAS],
			         ", ", home);
			unreadable++;
		} else if (errno != ENOENT && errno != ENOTDIR) {
			die_sys(111, "fatal: unable to read ", home);
		}
		return;
	}
	for (;;) {
		const char *ext;
		size_t n;
		errno = 0;
		e = readdir(d);
		if (!e)
			break;
		if (strncmp(e->d_name, ".postern-", 9) != 0)
			continue;
		ext = e->d_name + 9;
		n = strlen(ext);
		if (!usable(ext, n))
			continue;
		/* "default" and "PREFIX-default": the -default search of postern-local */
		if (n >= 7 && strcmp(ext + n - 7, "default") == 0 && (n == 7 || (n > 8 && ext[n - 8] == '-')))
			add('D', user, ul, 1, ext, n - 7);
		else
			add('E', user, ul, 1, ext, n);
	}
	if (errno)
		die_sys(111, "fatal: unable to read ", home);
	closedir(d);
}

static void scan_users(unsigned long long minuid)
{
	struct passwd *pw;

	setpwent();
	for (;;) {
		size_t ul;
		errno = 0;
		pw = getpwent();
		if (!pw)
			break;
		if (pw->pw_uid == 0 || pw->pw_uid < minuid)
			continue;
		ul = strlen(pw->pw_name);
		if (!usable(pw->pw_name, ul))
			continue;
		add('U', pw->pw_name, ul, 0, "", 0);
		if (pw->pw_dir && pw->pw_dir[0] == '/')
			scan_home(pw->pw_dir, pw->pw_name, ul);
	}
	if (errno && errno != ENOENT)
		die_sys(111, "fatal: unable to read the user database");
	endpwent();
}

static void scan_vmail(const char *vmail)
{
	DIR *d = opendir(vmail), *dd;
	struct dirent *e, *f;

	if (!d) {
		if (errno == ENOENT)
			return;
		die_sys(111, "fatal: unable to read ", vmail);
	}
	while ((e = readdir(d))) {
		struct str sub = STR_INIT;
		size_t dn = strlen(e->d_name);
		if (e->d_name[0] == '.' || !usable(e->d_name, dn))
			continue;
		if (!path_join(&sub, vmail, e->d_name))
			die_nomem();
		dd = opendir(sub.s);
		if (!dd) {
			/* a domain root cannot list would lose every mailbox in
			 * it to a 550, as an unreadable home would its addresses */
			if (errno == EACCES) {
				warn_sys("warning: unable to read the virtual domain ", sub.s);
				unreadable++;
			} else if (errno != ENOTDIR && errno != ENOENT)
				die_sys(111, "fatal: unable to read ", sub.s);
			str_free(&sub);
			continue;
		}
		while ((f = readdir(dd))) {
			struct stat st;
			struct str mb = STR_INIT;
			size_t ln = strlen(f->d_name);
			if (f->d_name[0] == '.' || !usable(f->d_name, ln))
				continue;
			if (!path_join(&mb, sub.s, f->d_name))
				die_nomem();
			if (lstat(mb.s, &st) == -1) {
				if (errno != ENOENT)
					die_sys(111, "fatal: unable to look at ", mb.s);
			} else if (S_ISDIR(st.st_mode)) {
				struct str k = STR_INIT;
				if (!str_catb(&k, e->d_name, dn) || !str_catc(&k, '/'))
					die_nomem();
				add('V', k.s, k.len, 0, f->d_name, ln);
				str_free(&k);
			}
			str_free(&mb);
		}
		closedir(dd);
		str_free(&sub);
	}
	closedir(d);
}

/* Waits for any other run to finish, and keeps it waiting until this one
 * has renamed its table.  The lock is the directory's own, so there is no
 * lock file to create; the kernel drops it however the holder ends. */
static int lock_dir(const char *dir)
{
	int fd = dir_lock(dir);

	if (fd == -1)
		die_sys(111, "fatal: unable to lock ", dir);
	return fd;
}

/* The table's group and mode: readable by the group of its two readers,
 * postern-smtpd (port 25) and postern-submit (submission's postern-smtpd
 * -a), whose listeners run them with their primary gid and no other group.
 * So both must have the same primary group (postern-nofiles): with two, a
 * table of one group would be unreadable to the other user, whose sessions
 * would then defer every local recipient (451).  That is fatal here,
 * before any home is read, and the old table stays.  Only one of the two:
 * its group.  Neither: 0644, root's. */
static void table_owner(const char *path, gid_t *gid, mode_t *mode)
{
	struct passwd *pw;
	gid_t smtpd_gid = 0;
	int have_smtpd = 0;

	*gid = 0;
	*mode = 0644;
	pw = getpwnam(conf_users[USER_SMTPD]);
	if (pw) {
		smtpd_gid = pw->pw_gid;
		have_smtpd = 1;
		*gid = smtpd_gid;
		*mode = 0640;
	}
	pw = getpwnam(conf_users[USER_SUBMIT]);
	if (!pw)
		return;
	if (have_smtpd && pw->pw_gid != smtpd_gid) {
		char a[FMT_ULONG + 1], b[FMT_ULONG + 1];
		a[fmt_ulong(a, (unsigned long long)pw->pw_gid)] = 0;
		b[fmt_ulong(b, (unsigned long long)smtpd_gid)] = 0;
		die(111, "fatal: the primary group of ", conf_users[USER_SUBMIT], " (gid ", a, ") is not that of ",
		    conf_users[USER_SMTPD], " (gid ", b, "), so one of them could not read ", path,
		    ": give both the same primary group (./install does); the table is not replaced");
	}
	*gid = pw->pw_gid;
	*mode = 0640;
}

/* Writes data as dir/rcpt.cdb (path) through dir/rcpt.cdb.tmp, root's,
 * group gid, mode; lock is dir's locked descriptor, closed here, once the
 * rename is durable. */
static void table_install(const char *dir, int lock, const struct str *data, const char *path, gid_t gid,
                          mode_t mode)
{
	struct str tmp = STR_INIT;

	if (!path_join(&tmp, dir, "rcpt.cdb.tmp"))
		die_nomem();
	if (file_replace_shared(path, tmp.s, data->s, data->len, gid, mode) == -1)
		die_sys(111, "fatal: unable to write ", tmp.s, " and rename it to ", path);
	if (fsync(lock) == -1 || close(lock) == -1)
		die_sys(111, "fatal: unable to sync ", dir);
	str_free(&tmp);
}

int main(int argc, char **argv)
{
	unsigned long long minuid;
	struct str dir = STR_INIT, path = STR_INIT, alias = STR_INIT, vmail = STR_INIT, data = STR_INIT;
	int lock;
	gid_t gid;
	mode_t mode;
	struct logline l = { STR_INIT };

	progname = "postern-mkrcpt";
	if (argc > 1)
		die_usage(USAGE);
	(void)argv;
	umask(022);
	if (!home_path(&dir, "users") || !home_path(&alias, "alias") || !home_path(&vmail, "vmail") ||
	    !path_join(&path, dir.s, "rcpt.cdb"))
		die_nomem();
	if (mkdir(dir.s, 0755) == -1 && errno != EEXIST)
		die_sys(111, "fatal: unable to create ", dir.s);
	lock = lock_dir(dir.s);
	/* after the lock: a run that waited reads what the one before it saw changed */
	table_owner(path.s, &gid, &mode);
	if (control_num("minuid", &minuid, 1000) == -1)
		die_sys(111, "fatal: unable to read control/minuid");
	scan_users(minuid);
	scan_home(alias.s, "", 0);
	scan_vmail(vmail.s);
	if (unreadable)
		die(111, "fatal: some homes or virtual domains could not be read (see above); ", path.s, " is not replaced");
	if (!cdb_make_finish(&cm, &data))
		die_sys(111, "fatal: unable to build the table");
	table_install(dir.s, lock, &data, path.s, gid, mode);

	log_begin(&l, "table");
	log_kv(&l, "file", path.s);
	log_kvu(&l, "keys", nkeys);
	log_end(&l);
	cdb_make_free(&cm);
	str_free(&data);
	str_free(&path);
	str_free(&dir);
	str_free(&alias);
	str_free(&vmail);
	return 0;
}
