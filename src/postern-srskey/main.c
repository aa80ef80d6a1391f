/* postern-srskey: makes and changes HOME/secret/srs/key, the keys that sign
 * and verify SRS addresses (doc/srs.md).
 *
 * usage: postern-srskey         make the key file if there is none (./install
 *                               runs this; an existing file is left alone)
 *        postern-srskey new     a new key first, the ones before it kept after
 *                               it (they still verify; at most 8 in all, the
 *                               oldest dropped)
 *        postern-srskey drop    every key but the first removed
 *
 * As root.  The file is postern-srs's, 0600 (group postern-nofiles, which
 * gives no reader): postern-srs, the key holder, signs with its first key
 * for postern-send and verifies with all of them for postern-smtpd.  It is
 * written beside the old one, fsync'ed and renamed over it, so a reader
 * sees the old keys or the new ones, never a part.  Runs hold a lock on
 * secret/srs/ from before the old file is read until after the rename, so
 * two runs of `new` cannot lose a key between them.  The keys are never
 * printed. */
#include <fcntl.h>
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "conf.h"
#include "die.h"
#include "file.h"
#include "home.h"
#include "log.h"
#include "rand.h"
#include "srs.h"

#define USAGE "postern-srskey [new | drop]"
#define HEADER "# SRS keys (postern-srskey(8), doc/srs.md): the first signs, every one verifies\n"

enum action { MAKE, NEW, DROP };

static void add_key(struct str *text, const unsigned char *k)
{
	if (!str_cathex(text, k, SIPHASH_KEY_BYTES) || !str_catc(text, '\n'))
		die_nomem();
}

/* The key file kept as it is: uid's, group gid, 0600, whatever an
 * admin's hand or an older copy left (one before postern-srs was root's,
 * group postern-srs, 0640; ./install --check cannot see it, being no
 * line of the manifest).  1 if it had to be mended. */
static int mend_owner(const char *path, uid_t uid, gid_t gid)
{
	struct stat st;
	int fd = openat(AT_FDCWD, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), mended = 0;

	if (fd == -1 || fstat(fd, &st) == -1)
		die_sys(111, "fatal: unable to open ", path);
	if (!S_ISREG(st.st_mode))
		die(111, "fatal: ", path, " is not a regular file: left as it is");
	if (st.st_uid != uid || st.st_gid != gid) {
		if (fchown(fd, uid, gid) == -1)
			die_sys(111, "fatal: unable to give ", path, " to its owner");
		mended = 1;
	}
	if ((st.st_mode & 07777) != 0600) {
		if (fchmod(fd, 0600) == -1)
			die_sys(111, "fatal: unable to set the mode of ", path);
		mended = 1;
	}
	if (close(fd) == -1)
		die_sys(111, "fatal: unable to close ", path);
	return mended;
}

static void fresh_key(unsigned char *k)
{
	if (!rand_bytes(k, SIPHASH_KEY_BYTES))
		die_sys(111, "fatal: no random bytes from the kernel");
}

/* Writes text as path through path.tmp, pw's, 0600; dir (its directory,
 * locked as lock) is fsync'ed so the rename lasts. */
static void install_keys(const char *dir, int lock, const char *path, const struct str *text, const struct passwd *pw)
{
	struct str tmp = STR_INIT;

	if (!str_copys(&tmp, path) || !str_cats(&tmp, ".tmp"))
		die_nomem();
	if (file_replace_owned(path, tmp.s, text->s, text->len, pw->pw_uid, pw->pw_gid, 0600) == -1)
		die_sys(111, "fatal: unable to write ", tmp.s, " and rename it to ", path);
	if (fsync(lock) == -1)
		die_sys(111, "fatal: unable to sync ", dir);
	str_free(&tmp);
}

int main(int argc, char **argv)
{
	struct str dir = STR_INIT, path = STR_INIT, old = STR_INIT, text = STR_INIT;
	struct srs_keys keys = { 0 };
	unsigned char k[SIPHASH_KEY_BYTES];
	enum action action = MAKE;
	struct logline l = { STR_INIT };
	struct passwd *pw;
	size_t i, keep;
	int lock, r;

	progname = "postern-srskey";
	if (argc == 2 && strcmp(argv[1], "new") == 0)
		action = NEW;
	else if (argc == 2 && strcmp(argv[1], "drop") == 0)
		action = DROP;
	else if (argc != 1)
		die_usage(USAGE);
	if (geteuid() != 0)
		die(100, "fatal: must run as root");
	pw = getpwnam(conf_users[USER_SRS]);
	if (!pw)
		die(111, "fatal: no such user: ", conf_users[USER_SRS], " (run ./install)");
	if (pw->pw_uid == 0)
		die(111, "fatal: ", conf_users[USER_SRS], " is root: the key must be a user's of its own");
	umask(077);
	if (!home_path(&dir, "secret/srs") || !home_path(&path, SRS_KEY_FILE))
		die_nomem();
	lock = dir_lock(dir.s);
	if (lock == -1)
		die_sys(111, "fatal: unable to lock ", dir.s, " (run ./install)");

	r = read_file(path.s, &old, 64 * 1024);
	if (r == -1)
		die_sys(111, "fatal: unable to read ", path.s);
	if (r == 1 && !srs_keys_parse(&keys, old.s, old.len))
		die(111, "fatal: ", path.s, " is malformed (lines of 32 hex digits): left as it is; mend or remove it");
	if (action == MAKE && r == 1) {
		int mended = mend_owner(path.s, pw->pw_uid, pw->pw_gid);
		log_begin(&l, "kept");
		log_kv(&l, "file", path.s);
		log_kvu(&l, "keys", keys.n);
		if (mended)
			log_kv(&l, "mended", "owner and mode: postern-srs, 0600");
		log_end(&l);
		return 0;
	}
	if (action == DROP && r == 0)
		die(111, "fatal: ", path.s, " does not exist: nothing to drop");

	if (!str_cats(&text, HEADER))
		die_nomem();
	if (action != DROP) {
		fresh_key(k);
		add_key(&text, k);
	}
	/* new: every old key after the new one but the oldest beyond the
	 * limit; drop: the first alone */
	keep = action == NEW ? (keys.n < SRS_KEYS_MAX ? keys.n : SRS_KEYS_MAX - 1) : action == DROP ? 1 : 0;
	for (i = 0; i < keep; i++)
		add_key(&text, keys.k[i]);
	install_keys(dir.s, lock, path.s, &text, pw);

	log_begin(&l, action == MAKE ? "made" : action == NEW ? "new" : "dropped");
	log_kv(&l, "file", path.s);
	log_kvu(&l, "keys", (action == DROP ? 0 : 1) + keep);
	if (action == NEW && keys.n >= SRS_KEYS_MAX)
		log_kvu(&l, "forgotten", keys.n - keep);
	if (action == DROP)
		log_kvu(&l, "forgotten", keys.n - 1);
	log_end(&l);
	str_wipe(&old);
	str_wipe(&text);
	memset(&keys, 0, sizeof keys);
	memset(k, 0, sizeof k);
	close(lock);
	str_free(&dir);
	str_free(&path);
	return 0;
}
