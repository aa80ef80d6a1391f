/* The password file, HOME/secret/auth/passwd (doc/pop3.md): NAME:HASH a
 * line.  It is opened and looked at (fstat) for every request, and read
 * again only when its inode, size, modification or change time differs:
 * an edit counts from the next login without a restart, and an unchanged
 * file costs an open, an fstat and a close.  The lines are kept sorted by
 * name, so a lookup is a binary search and a name written on two lines is
 * found when the file is read.  Such a name is refused (its user cannot
 * log in, as with a malformed line) rather than served by one of its
 * lines: which line a hand edit meant cannot be guessed, and
 * postern-passwd set, which writes one line a user, mends it.
 *
 * A hash made with argon2 parameters other than libsodium's interactive
 * ones (by hand, by another tool, or before libsodium changed them) is
 * taken, but logged: its verification takes another time than the dummy
 * hash's, so the time of an N would tell that the name exists.
 * postern-passwd set makes it anew with the right ones. */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "auth.h"
#include "file.h"
#include "log.h"
#include "loginname.h"
#include "statsame.h"

#define LINES_LOGGED 10 /* malformed lines, and those of other parameters, named at each read */

struct entry {
	const char *name; /* in data, NUL-terminated (the colon became a NUL) */
	size_t namelen;
	const char *hash; /* in data, NUL-terminated (the newline became one) */
	int dup;
};

static struct str data;
static struct entry *entries;
static size_t nentries;
static struct stat seen;
static int loaded;

/* An argon2id string as crypto_pwhash_str writes it: printable, shorter
 * than crypto_pwhash_STRBYTES, and one libsodium can decode.  -1 when it
 * is not; 0 when its parameters are the interactive ones, postern-passwd's
 * and the dummy hash's; 1 when they differ. */
static int hash_check(const char *h, size_t n)
{
	static const char prefix[] = crypto_pwhash_argon2id_STRPREFIX;
	char buf[crypto_pwhash_argon2id_STRBYTES];
	size_t i;
	int r;

	if (n >= sizeof buf || n < sizeof prefix - 1 || memcmp(h, prefix, sizeof prefix - 1) != 0)
		return -1;
	for (i = 0; i < n; i++)
		if ((unsigned char)h[i] <= 0x20 || (unsigned char)h[i] >= 0x7f)
			return -1;
	memset(buf, 0, sizeof buf);
	memcpy(buf, h, n);
	r = crypto_pwhash_argon2id_str_needs_rehash(buf, crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE,
	                                            crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE);
	return r == 0 ? 0 : r == 1 ? 1 : -1;
}

static int by_name(const void *x, const void *y)
{
	const struct entry *a = x, *b = y;
	int c = memcmp(a->name, b->name, a->namelen < b->namelen ? a->namelen : b->namelen);

	if (c)
		return c;
	return a->namelen < b->namelen ? -1 : a->namelen > b->namelen;
}

static void log_line(size_t lineno, const char *why)
{
	struct logline l = { STR_INIT };

	log_begin(&l, "passwd_line");
	log_kvu(&l, "line", lineno);
	log_kv(&l, "why", why);
	log_end(&l);
}

static void log_params(size_t lineno, const char *name, size_t n)
{
	struct logline l = { STR_INIT };

	log_begin(&l, "passwd_params");
	log_kvu(&l, "line", lineno);
	log_kvb(&l, "user", name, n);
	log_kv(&l, "why", "argon2 parameters other than the interactive ones: its check takes another time than an "
	                  "unknown name's (postern-passwd set makes it anew)");
	log_end(&l);
}

/* The entries of d's lines (d's colons and newlines become NULs), sorted,
 * the duplicates marked.  0, or -1 out of memory. */
static int parse(struct str *d, struct entry **out, size_t *nout)
{
	struct entry *e = 0, *grown;
	size_t n = 0, cap = 0, pos = 0, lineno = 0, malformed = 0, other = 0, dups = 0, i, at;
	struct logline l = { STR_INIT };

	while (pos < d->len) {
		char *line = d->s + pos, *nl = memchr(line, '\n', d->len - pos), *colon;
		size_t len = nl ? (size_t)(nl - line) : d->len - pos;
		const char *why = 0;
		int params = 0;

		pos += len + (nl ? 1 : 0);
		lineno++;
		if (nl)
			*nl = 0; /* the last line ends at d's own NUL */
		if (len == 0 || line[0] == '#')
			continue;
		colon = memchr(line, ':', len);
		if (!colon)
			why = "no colon";
		else if (!login_name(line, (size_t)(colon - line), &at))
			why = "malformed user name";
		else if ((params = hash_check(colon + 1, len - (size_t)(colon + 1 - line))) == -1)
			why = "not an argon2id hash of crypto_pwhash_str's";
		if (why) {
			if (++malformed <= LINES_LOGGED)
				log_line(lineno, why);
			continue;
		}
		if (params == 1 && ++other <= LINES_LOGGED)
			log_params(lineno, line, (size_t)(colon - line));
		if (n == cap) {
			cap = cap ? 2 * cap : 64; /* at most 4 MB / 100 lines: no overflow */
			grown = realloc(e, cap * sizeof *e);
			if (!grown) {
				free(e);
				return -1;
			}
			e = grown;
		}
		*colon = 0;
		e[n].name = line;
		e[n].namelen = (size_t)(colon - line);
		e[n].hash = colon + 1;
		e[n].dup = 0;
		n++;
	}
	if (n)
		qsort(e, n, sizeof *e, by_name);
	for (i = 1; i < n; i++)
		if (by_name(&e[i - 1], &e[i]) == 0) {
			dups += !e[i - 1].dup;
			e[i - 1].dup = e[i].dup = 1;
		}
	log_begin(&l, "passwd");
	log_kvu(&l, "lines", lineno);
	log_kvu(&l, "users", n);
	log_kvu(&l, "malformed", malformed);
	log_kvu(&l, "duplicated", dups);
	log_kvu(&l, "other_params", other);
	log_end(&l);
	*out = e;
	*nout = n;
	return 0;
}

/* Reads the file open at fd (whose stat is st) and puts it in place of
 * the one read before: 0, or why not (the one before then stays). */
static const char *reread(int fd, const struct stat *st, int *err)
{
	struct str d = STR_INIT;
	struct entry *e;
	size_t n;

	if (read_fd(fd, &d, PWFILE_MAX) == -1) {
		*err = errno == EFBIG ? 0 : errno;
		str_free(&d);
		return *err ? "unable to read the password file" : "the password file is over 4 MB";
	}
	if (parse(&d, &e, &n) == -1) {
		str_free(&d);
		return "out of memory for the password file";
	}
	pwfile_free();
	data = d;
	entries = e;
	nentries = n;
	/* st is from before the read: an edit during it changes the file's
	 * times again, and the next request reads it once more */
	seen = *st;
	loaded = 1;
	return 0;
}

const char *pwfile_load(const char *path, int *err)
{
	int fd = openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	struct stat st;
	const char *why = 0;

	*err = 0;
	if (fd == -1) {
		*err = errno;
		return errno == ENOENT ? "no password file" : "unable to open the password file";
	}
	if (fstat(fd, &st) == -1) {
		*err = errno;
		why = "unable to stat the password file";
	}
	else if (!S_ISREG(st.st_mode))
		why = "the password file is not a regular file";
	else if (st.st_uid != geteuid())
		why = "the password file is not mine";
	else if (st.st_mode & 077)
		why = "the password file may be read or written by its group or others";
	else if (st.st_size > PWFILE_MAX)
		why = "the password file is over 4 MB";
	else if (!loaded || !stat_same(&st, &seen))
		why = reread(fd, &st, err);
	if (close(fd) == -1 && !why) {
		*err = errno;
		why = "unable to close the password file";
	}
	return why;
}

const char *pwfile_hash(const char *user, size_t n, const char **why)
{
	struct entry key;
	size_t lo = 0, hi = nentries;

	key.name = user;
	key.namelen = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = by_name(&key, &entries[mid]);
		if (c == 0) {
			*why = entries[mid].dup ? "user on more than one line" : 0;
			return entries[mid].dup ? 0 : entries[mid].hash;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	*why = "no such user";
	return 0;
}

void pwfile_free(void)
{
	str_free(&data);
	free(entries);
	entries = 0;
	nentries = 0;
	loaded = 0;
}
