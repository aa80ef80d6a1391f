/* The password file is never written in place: postern-auth may read it at
 * any moment, and must see the old file or the new one, whole.  A new file
 * is written beside it (secret/auth/passwd.new, mode 0600, created
 * exclusively and never through a symlink), fsync'ed, and renamed over
 * the old; then the directory is fsync'ed, so that the rename survives a
 * crash.  Two runs at once would each read the old file and the second
 * rename would lose the first one's change: an exclusive flock on
 * secret/auth/passwd.lock, held from the read to the rename, puts them in
 * a row.  Under the lock no other run is writing, so a passwd.new found
 * there is a crashed run's, and is removed. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h> /* rename */
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include "passwd.h"
#include "die.h"
#include "file.h"
#include "io.h"
#include "str.h"

static struct str lockpath, oldpath, newpath;

static void paths(const char *dir)
{
	if (!path_join(&lockpath, dir, "passwd.lock") || !path_join(&oldpath, dir, "passwd") ||
	    !path_join(&newpath, dir, "passwd.new"))
		die_nomem();
}

static int lock(void)
{
	int fd = openat(AT_FDCWD, lockpath.s, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd == -1)
		die_sys(111, "fatal: unable to open ", lockpath.s);
	while (flock(fd, LOCK_EX) == -1)
		if (errno != EINTR)
			die_sys(111, "fatal: unable to lock ", lockpath.s);
	return fd;
}

/* The old file into old (empty when there is none). */
static void read_old(struct str *old)
{
	int fd = openat(AT_FDCWD, oldpath.s, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	struct stat st;

	old->len = 0;
	if (fd == -1 && errno == ENOENT)
		return;
	if (fd == -1 || fstat(fd, &st) == -1)
		die_sys(111, "fatal: unable to open ", oldpath.s);
	if (!S_ISREG(st.st_mode))
		die(111, "fatal: ", oldpath.s, " is not a regular file");
	if (read_fd(fd, old, PWFILE_MAX) == -1) {
		if (errno == EFBIG)
			die(111, "fatal: ", oldpath.s, " is over 4 MB");
		die_sys(111, "fatal: unable to read ", oldpath.s);
	}
	if (close(fd) == -1)
		die_sys(111, "fatal: unable to close ", oldpath.s);
}

/* old's lines but user's, each ended by a newline, into out: 1 when user
 * had a line. */
static int keep(const struct str *old, const char *user, struct str *out)
{
	size_t pos = 0, ulen = strlen(user);
	int found = 0;

	while (pos < old->len) {
		const char *l = old->s + pos, *nl = memchr(l, '\n', old->len - pos);
		size_t len = nl ? (size_t)(nl - l) : old->len - pos;

		pos += len + (nl ? 1 : 0);
		if (len > ulen && memcmp(l, user, ulen) == 0 && l[ulen] == ':') {
			found = 1;
			continue;
		}
		/* a last line without its newline gets one, or the line added
		 * after it would run on from it */
		if (!str_catb(out, l, len) || !str_catc(out, '\n'))
			die_nomem();
	}
	return found;
}

static void write_new(const struct str *text, const char *dir)
{
	int fd;

	if (unlink(newpath.s) == -1 && errno != ENOENT)
		die_sys(111, "fatal: unable to remove ", newpath.s);
	fd = open_excl(newpath.s, 0600);
	if (fd == -1)
		die_sys(111, "fatal: unable to create ", newpath.s);
	if (write_all(fd, text->s, text->len) == -1 || fsync(fd) == -1 || close(fd) == -1) {
		int e = errno;
		(void)unlink(newpath.s);
		errno = e;
		die_sys(111, "fatal: unable to write ", newpath.s);
	}
	if (rename(newpath.s, oldpath.s) == -1) {
		int e = errno;
		(void)unlink(newpath.s);
		errno = e;
		die_sys(111, "fatal: unable to rename ", newpath.s, " to ", oldpath.s);
	}
	if (fsync_dir(dir) == -1)
		die_sys(111, "fatal: unable to fsync ", dir);
}

int rewrite(const char *dir, const char *user, const char *line)
{
	struct str old = STR_INIT, text = STR_INIT;
	int fd, found;

	paths(dir);
	fd = lock();
	read_old(&old);
	found = keep(&old, user, &text);
	if (line && (!str_cats(&text, line) || !str_catc(&text, '\n')))
		die_nomem();
	if (text.len > PWFILE_MAX)
		die(100, "fatal: the new ", oldpath.s, " would be over 4 MB");
	if (line || found)
		write_new(&text, dir);
	if (close(fd) == -1)
		die_sys(111, "fatal: unable to close ", lockpath.s);
	str_free(&old);
	str_free(&text);
	return found;
}
