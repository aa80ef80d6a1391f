/* The POP3 roster, HOME/users/pop3 (doc/pop3.md, "The roster"): the login
 * names a session may be started for, one a line.  postern-auth decides
 * whether a password is right, but it is not root, and a compromised
 * postern-auth could otherwise name any user at or above control/minuid,
 * or any virtual mailbox, and rewrite its own password file to match.
 * The roster is root's: postern-passwd (run as root) adds a name to it
 * before it writes the name's password, and only what is in it starts.
 *
 * It is opened and looked at (fstat) at every request, and read again
 * only when its inode, size, modification or change time differs, as
 * postern-auth does with the password file.  A file that is not a
 * regular file of root's with one link, not writable by group or others,
 * at most 1 MB, refuses every login: a roster someone else could have
 * written is no roster.  No file at all is an empty roster. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "pspawn.h"
#include "file.h"
#include "home.h"
#include "log.h"
#include "loginname.h"
#include "pop3limits.h"
#include "statsame.h"
#include "str.h"

#define LINES_LOGGED 10 /* malformed lines named in the log at each read */

static struct str path, data;
static const char **names; /* into data, sorted */
static size_t nnames;
static struct stat seen;
static int loaded;

static int by_name(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

static void log_line(size_t lineno)
{
	struct logline l = { STR_INIT };

	log_begin(&l, "roster_line");
	log_kvu(&l, "line", lineno);
	log_kv(&l, "why", "not a login name");
	log_end(&l);
}

/* d's lines (the newlines become NULs) into a sorted array: 0, or -1 out
 * of memory.  A malformed line is logged and skipped: a hand edit that
 * broke one name keeps the others. */
static int parse(struct str *d, const char ***out, size_t *nout)
{
	const char **v, *p;
	size_t n = 0, cap = 1, pos = 0, lineno = 0, malformed = 0, at;
	struct logline l = { STR_INIT };

	/* room for a name a line, counted first: at most 1 MB + 1 lines */
	for (p = d->s; (p = memchr(p, '\n', (size_t)(d->s + d->len - p))); p++)
		cap++;
	if (!(v = malloc(cap * sizeof *v)))
		return -1;
	while (pos < d->len) {
		char *line = d->s + pos, *nl = memchr(line, '\n', d->len - pos);
		size_t len = nl ? (size_t)(nl - line) : d->len - pos;

		pos += len + (nl ? 1 : 0);
		lineno++;
		if (nl)
			*nl = 0; /* the last line ends at d's own NUL */
		if (len == 0 || line[0] == '#')
			continue;
		if (!login_name(line, len, &at)) {
			if (++malformed <= LINES_LOGGED)
				log_line(lineno);
			continue;
		}
		v[n++] = line;
	}
	if (n)
		qsort(v, n, sizeof *v, by_name);
	log_begin(&l, "roster");
	log_kvu(&l, "lines", lineno);
	log_kvu(&l, "users", n);
	log_kvu(&l, "malformed", malformed);
	log_end(&l);
	*out = v;
	*nout = n;
	return 0;
}

static const char *reread(int fd, const struct stat *st)
{
	struct str d = STR_INIT;
	const char **v;
	size_t n;

	if (read_fd(fd, &d, ROSTER_MAX) == -1) {
		str_free(&d);
		return errno == EFBIG ? "users/pop3 is over 1 MB" : "unable to read users/pop3";
	}
	if (parse(&d, &v, &n) == -1) {
		str_free(&d);
		return "out of memory for users/pop3";
	}
	str_free(&data);
	free(names);
	data = d;
	names = v;
	nnames = n;
	seen = *st; /* from before the read: an edit during it is read next time */
	loaded = 1;
	return 0;
}

/* 0 with the roster in names, or why no name can be let in. */
static const char *load(void)
{
	int fd;
	struct stat st;
	const char *why = 0;

	if (!path.len && !home_path(&path, "users/pop3"))
		return "out of memory";
	fd = openat(AT_FDCWD, path.s, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd == -1)
		return errno == ENOENT ? "not a POP3 user (there is no users/pop3)"
		       : errno == ELOOP ? "users/pop3 is a symbolic link" : "unable to open users/pop3";
	if (fstat(fd, &st) == -1)
		why = "unable to stat users/pop3";
	else if (!S_ISREG(st.st_mode))
		why = "users/pop3 is not a regular file";
	else if (st.st_uid != 0)
		why = "users/pop3 is not root's";
	else if (st.st_mode & 022)
		why = "users/pop3 may be written by its group or others";
	else if (st.st_nlink != 1)
		why = "users/pop3 has more than one link";
	else if (st.st_size > ROSTER_MAX)
		why = "users/pop3 is over 1 MB";
	else if (!loaded || !stat_same(&st, &seen))
		why = reread(fd, &st);
	if (close(fd) == -1 && !why)
		why = "unable to close users/pop3";
	return why;
}

const char *roster_check(const char *user)
{
	const char *why = load();

	if (why)
		return why;
	if (!nnames || !bsearch(&user, names, nnames, sizeof *names, by_name))
		return "not a POP3 user";
	return 0;
}
