/* The password file and the roster are never written in place:
 * postern-auth and postern-pspawn may read them at any moment, and must
 * see the old file or the new one, whole.  A new file is written beside
 * it (NAME.new, mode 0600, created exclusively and never through a
 * symlink), fsync'ed, and renamed over the old; then the directory is
 * fsync'ed, so that the rename survives a crash.  Two runs at once would
 * each read the old file and the second rename would lose the first one's
 * change: an exclusive flock on NAME.lock, held from the read to the
 * rename, puts them in a row.  Under the lock no other run is writing, so
 * a NAME.new found there is a crashed run's, and is removed.  The new
 * file is the running user's: postern-auth's for the password file,
 * root's for the roster. */
#include <errno.h>
#include <fcntl.h>
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

static void paths(const struct table *t)
{
	if (!path_join(&oldpath, t->dir, t->name) || !str_copys(&lockpath, oldpath.s) ||
	    !str_cats(&lockpath, ".lock") || !str_copys(&newpath, oldpath.s) || !str_cats(&newpath, ".new"))
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
static void read_old(const struct table *t, struct str *old)
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
	if (read_fd(fd, old, t->max) == -1) {
		if (errno == EFBIG)
			die(111, "fatal: ", oldpath.s, " is over ", t->max_text);
		die_sys(111, "fatal: unable to read ", oldpath.s);
	}
	if (close(fd) == -1)
		die_sys(111, "fatal: unable to close ", oldpath.s);
}

/* Whether the line l (len bytes) is user's: NAME then sep, or the name
 * alone when sep is 0. */
static int users(const struct table *t, const char *l, size_t len, const char *user, size_t ulen)
{
	if (len < ulen || memcmp(l, user, ulen) != 0)
		return 0;
	return t->sep ? len > ulen && l[ulen] == t->sep : len == ulen;
}

/* old's lines but user's, each ended by a newline, into out: how many
 * were user's, with *as_line set when that is one and it is line. */
static size_t keep(const struct table *t, const struct str *old, const char *user, const char *line, struct str *out,
                   int *as_line)
{
	size_t pos = 0, ulen = strlen(user), found = 0;

	*as_line = 0;
	while (pos < old->len) {
		const char *l = old->s + pos, *nl = memchr(l, '\n', old->len - pos);
		size_t len = nl ? (size_t)(nl - l) : old->len - pos;

		pos += len + (nl ? 1 : 0);
		if (users(t, l, len, user, ulen)) {
			*as_line = line && len == strlen(line) && memcmp(l, line, len) == 0;
			found++;
			continue;
		}
		/* a last line without its newline gets one, or the line added
		 * after it would run on from it */
		if (!str_catb(out, l, len) || !str_catc(out, '\n'))
			die_nomem();
	}
	if (found != 1)
		*as_line = 0;
	return found;
}

static void write_new(const struct str *text, const char *dir)
{
	if (file_replace(oldpath.s, newpath.s, text->s, text->len, 0600, 1) == -1)
		die_sys(111, "fatal: unable to write ", newpath.s, " and rename it to ", oldpath.s);
	if (fsync_dir(dir) == -1)
		die_sys(111, "fatal: unable to fsync ", dir);
}

int rewrite(const struct table *t, const char *user, const char *line, int hold)
{
	struct str old = STR_INIT, text = STR_INIT;
	size_t found;
	int fd, as_line;

	paths(t);
	fd = lock();
	read_old(t, &old);
	found = keep(t, &old, user, line, &text, &as_line);
	if (line && (!str_cats(&text, line) || !str_catc(&text, '\n')))
		die_nomem();
	if (text.len > t->max)
		die(100, "fatal: the new ", oldpath.s, " would be over ", t->max_text);
	/* a name already on the roster, once, is left where it is */
	if ((line || found) && !as_line)
		write_new(&text, t->dir);
	if (!hold && close(fd) == -1)
		die_sys(111, "fatal: unable to close ", lockpath.s);
	str_free(&old);
	str_free(&text);
	return found != 0;
}
