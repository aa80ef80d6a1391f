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
 * Started as root, it does its work as postern-srs: the file is
 * postern-srs's, 0600, in secret/srs/, postern-srs's too, so root never
 * opens, writes or renames anything by a name in a directory another
 * user owns (a link or a FIFO put there would have it read, chown or
 * wait on what that user chose).  As root it does one thing first: give
 * an older install's key file (root's, group postern-srs, 0640) to
 * postern-srs, through a descriptor, and only a regular file root owns
 * with no other link.  postern-srs, the key holder, signs with the
 * first key for postern-send and verifies with all of them for
 * postern-smtpd.  The file is written beside the old one, fsync'ed and
 * renamed over it, so a reader sees the old keys or the new ones, never
 * a part.  Runs hold a lock on secret/srs/ from before the old file is
 * read until after the rename, so two runs of `new` cannot lose a key
 * between them; a lock held for 10 seconds ends the run.  The keys are
 * never printed. */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include "conf.h"
#include "die.h"
#include "file.h"
#include "home.h"
#include "ids.h"
#include "log.h"
#include "rand.h"
#include "srs.h"

#define USAGE "postern-srskey [new | drop]"
#define HEADER "# SRS keys (postern-srskey(8), doc/srs.md): the first signs, every one verifies\n"
#define KEY_READ_MAX (64 * 1024)
#define LOCK_WAIT_S 10

enum action { MAKE, NEW, DROP };

static void add_key(struct str *text, const unsigned char *k)
{
	if (!str_cathex(text, k, SIPHASH_KEY_BYTES) || !str_catc(text, '\n'))
		die_nomem();
}

/* secret/srs/, opened without following a link: a descriptor every
 * later open is relative to */
static int open_dir(const char *dir)
{
	int fd = openat(AT_FDCWD, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd == -1)
		die_sys(111, "fatal: unable to open ", dir, " (run ./install)");
	return fd;
}

/* secret/srs/key, opened without following a link and without waiting on
 * a FIFO: its descriptor, after a check that it is a regular file; -1 if
 * there is none */
static int open_key(int dirfd, const char *path, struct stat *st)
{
	int fd = openat(dirfd, "key", O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

	if (fd == -1 && errno == ENOENT)
		return -1;
	if (fd == -1 || fstat(fd, st) == -1)
		die_sys(111, "fatal: unable to open ", path);
	if (!S_ISREG(st->st_mode))
		die(111, "fatal: ", path, " is not a regular file: left as it is");
	return fd;
}

/* As root: an older install's key file, root's, given to pw.  Only a
 * regular file root owns and no other name links: one of root's files
 * linked in here by postern-srs is left alone.  1 if it was given. */
static int give_old_key(int dirfd, const char *path, const struct passwd *pw)
{
	struct stat st;
	int fd = open_key(dirfd, path, &st);

	if (fd == -1 || st.st_uid != 0) {
		if (fd != -1 && close(fd) == -1)
			die_sys(111, "fatal: unable to close ", path);
		return 0;
	}
	if (st.st_nlink != 1)
		die(111, "fatal: ", path, " is root's and has another link: left as it is; remove it, or mend it by hand");
	if (fchmod(fd, 0600) == -1 || fchown(fd, pw->pw_uid, pw->pw_gid) == -1)
		die_sys(111, "fatal: unable to give ", path, " to its owner");
	if (close(fd) == -1)
		die_sys(111, "fatal: unable to close ", path);
	return 1;
}

/* An exclusive lock on the directory, waited for LOCK_WAIT_S at most. */
static void lock_dir(int dirfd, const char *dir)
{
	int i;

	for (i = 0; flock(dirfd, LOCK_EX | LOCK_NB) == -1; i++) {
		if (errno != EWOULDBLOCK && errno != EINTR)
			die_sys(111, "fatal: unable to lock ", dir);
		if (i == LOCK_WAIT_S * 10)
			die(111, "fatal: ", dir, " stayed locked for 10 seconds: another run of postern-srskey?");
		(void)usleep(100000);
	}
}

/* The file's keys into keys, and its mode mended: 1, or 0 if there is
 * no file.  A malformed one ends the run. */
static int read_keys(int dirfd, const char *path, struct srs_keys *keys, int *mended)
{
	struct str text = STR_INIT;
	struct stat st;
	int fd = open_key(dirfd, path, &st);

	if (fd == -1)
		return 0;
	if ((st.st_mode & 07777) != 0600) {
		if (fchmod(fd, 0600) == -1)
			die_sys(111, "fatal: unable to set the mode of ", path);
		*mended = 1;
	}
	if (read_fd(fd, &text, KEY_READ_MAX) == -1)
		die_sys(111, "fatal: unable to read ", path);
	if (close(fd) == -1)
		die_sys(111, "fatal: unable to close ", path);
	if (!srs_keys_parse(keys, text.s, text.len))
		die(111, "fatal: ", path, " is malformed (lines of 32 hex digits): left as it is; mend or remove it");
	str_wipe(&text);
	return 1;
}

static void fresh_key(unsigned char *k)
{
	if (!rand_bytes(k, SIPHASH_KEY_BYTES))
		die_sys(111, "fatal: no random bytes from the kernel");
}

int main(int argc, char **argv)
{
	struct str dir = STR_INIT, path = STR_INIT, tmp = STR_INIT, text = STR_INIT;
	struct srs_keys keys = { 0 };
	unsigned char k[SIPHASH_KEY_BYTES];
	enum action action = MAKE;
	struct logline l = { STR_INIT };
	struct passwd *pw;
	size_t i, keep;
	int dirfd, had, given, mended = 0;

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
	if (!home_path(&dir, "secret/srs") || !home_path(&path, SRS_KEY_FILE) || !str_copyb(&tmp, path.s, path.len) ||
	    !str_cats(&tmp, ".tmp"))
		die_nomem();
	dirfd = open_dir(dir.s);
	given = give_old_key(dirfd, path.s, pw);
	{
		gid_t g = pw->pw_gid;
		int r = ids_become(pw->pw_uid, g, 1, &g);
		if (r == IDS_CALL_FAILED)
			die_sys(111, "fatal: unable to become ", conf_users[USER_SRS]);
		if (r == IDS_DID_NOT_TAKE)
			die(111, "fatal: unable to become ", conf_users[USER_SRS], " for good");
	}
	/* from here on as postern-srs: what it owns is all it can touch */
	lock_dir(dirfd, dir.s);
	had = read_keys(dirfd, path.s, &keys, &mended);
	if (action == MAKE && had) {
		log_begin(&l, "kept");
		log_kv(&l, "file", path.s);
		log_kvu(&l, "keys", keys.n);
		if (given || mended)
			log_kv(&l, "mended", "owner and mode: postern-srs, 0600");
		log_end(&l);
		memset(&keys, 0, sizeof keys);
		return 0;
	}
	if (action == DROP && !had)
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
	/* written as postern-srs, in its directory: tmp is made O_EXCL and
	 * without following a link (file_replace), then renamed */
	if (file_replace(path.s, tmp.s, text.s, text.len, 0600, 1) == -1)
		die_sys(111, "fatal: unable to write ", tmp.s, " and rename it to ", path.s);
	if (fsync(dirfd) == -1)
		die_sys(111, "fatal: unable to sync ", dir.s);
	log_begin(&l, action == MAKE ? "made" : action == NEW ? "new" : "dropped");
	log_kv(&l, "file", path.s);
	log_kvu(&l, "keys", (action == DROP ? 0 : 1) + keep);
	if (action == NEW && keys.n >= SRS_KEYS_MAX)
		log_kvu(&l, "forgotten", keys.n - keep);
	if (action == DROP)
		log_kvu(&l, "forgotten", keys.n - 1);
	log_end(&l);
	str_wipe(&text);
	memset(&keys, 0, sizeof keys);
	memset(k, 0, sizeof k);
	if (close(dirfd) == -1)
		die_sys(111, "fatal: unable to close ", dir.s);
	return 0;
}
