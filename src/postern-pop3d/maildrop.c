#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "maildrop.h"
#include "copy.h"
#include "fmt.h"
#include "uidl.h"

/* O_NONBLOCK: a FIFO someone left in the Maildir must not hang us in open */
#define OPEN_MSG (O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)

static int close_keep_errno(int fd)
{
	int e = errno;
	close(fd);
	errno = e;
	return -1;
}

/* A message file: open, a regular file, and its stat in *st.  -1 with
 * errno, EINVAL for anything but a regular file. */
static int open_regular(int dir, const char *name, struct stat *st)
{
	int fd = openat(dir, name, OPEN_MSG);

	if (fd == -1)
		return -1;
	if (fstat(fd, st) == -1)
		return close_keep_errno(fd);
	if (!S_ISREG(st->st_mode)) {
		errno = EINVAL;
		return close_keep_errno(fd);
	}
	return fd;
}

int maildrop_name_sizes(const char *name, size_t len, unsigned long long *size, unsigned long long *octets)
{
	size_t end = uidl_uniq_len(name, len), i, j;
	const char *comma = memchr(name, ',', end);
	int have_s = 0, have_w = 0;

	if (!comma)
		return 0;
	/* the fields: ",K=V" each up to the next ',' or the end of the unique
	 * part; a field of another letter is another writer's, and left be */
	for (i = (size_t)(comma - name); i < end; i = j) {
		const char *f = name + i + 1;
		for (j = i + 1; j < end && name[j] != ','; j++)
			;
		if (j - i - 1 < 2 || f[1] != '=' || (f[0] != 'S' && f[0] != 'W'))
			continue;
		if ((f[0] == 'S' ? have_s++ : have_w++) != 0)
			return 0; /* twice: which one is meant? */
		if (!scan_ulong_all(f + 2, j - i - 3, f[0] == 'S' ? size : octets))
			return 0;
	}
	if (!have_s || !have_w)
		return 0;
	/* Each LF adds at most one, and a last line without its LF two: a W
	 * outside [S, 2S+1] (0 for an empty file) describes no file at all. */
	return *octets >= *size && *octets - *size <= *size + (*size > 0);
}

/* The size a file's name says (",S=N,W=M", maildrop.h), taken only for a
 * regular file of exactly N bytes that we may read: 1 with *octets and *st
 * set, without opening it; 0 when it must be read and counted (no fields,
 * bad ones, another size: someone rewrote it, or anything unusual, which
 * open_regular then sorts out as it always has). */
static int sized_by_name(const struct maildrop *md, int dir, const char *name, size_t len, struct stat *st,
                         unsigned long long *octets)
{
	unsigned long long size, w;

	if (!maildrop_name_sizes(name, len, &size, &w))
		return 0;
	if (fstatat(dir, name, st, AT_SYMLINK_NOFOLLOW) == -1 || !S_ISREG(st->st_mode) || st->st_size < 0 ||
	    (unsigned long long)st->st_size != size)
		return 0;
	/* The file is not opened, but one we could not open is still no
	 * message of ours: left out and counted, as the read would.  Our own
	 * file with its owner's read bit set is readable (an ACL's owner entry
	 * is those bits); only others are asked about, which would cost a
	 * fourth of the listing's time. */
	if ((st->st_uid != md->uid || !(st->st_mode & S_IRUSR)) && faccessat(dir, name, R_OK, AT_EACCESS) == -1)
		return 0;
	*octets = w;
	return 1;
}

/* One file of new/ or cur/: its size from its name, or read and counted
 * once, here.  0 listed (or skipped), -1 an error that ends the login. */
static int add(struct maildrop *md, int which, const char *name, size_t len)
{
	struct stat st;
	struct msg *m;
	unsigned long long size;
	int fd = -1, r;

	if (md->n == MAILDROP_MAX) {
		md->skipped++;
		return 0;
	}
	if (!sized_by_name(md, md->dir[which], name, len, &st, &size) &&
	    (fd = open_regular(md->dir[which], name, &st)) == -1) {
		/* gone since readdir, a symlink, not a regular file: not a message */
		if (errno == ENOENT || errno == ELOOP || errno == EINVAL)
			return 0;
		if (errno == EACCES || errno == EPERM) {
			md->unreadable++;
			return 0;
		}
		return -1;
	}
	if (md->n % 1024 == 0) {
		struct msg *grown = realloc(md->m, (md->n + 1024) * sizeof *md->m);
		if (!grown)
			return fd == -1 ? -1 : close_keep_errno(fd);
		md->m = grown;
	}
	m = &md->m[md->n];
	if (fd != -1) {
		r = copy_message(fd, 0, COPY_ALL, &size);
		if (r == -1)
			return close_keep_errno(fd);
		close(fd);
	}
	m->size = size;
	m->name = md->names.len;
	if (!str_catb(&md->names, name, len) || !str_catz(&md->names))
		return -1;
	m->sec = (long long)st.st_mtim.tv_sec;
	m->nsec = st.st_mtim.tv_nsec;
	m->dir = (unsigned char)which;
	m->deleted = m->retrieved = 0;
	md->n++;
	return 0;
}

/* A name that may be a message: not a dot-file, no '/', bounded. */
static int name_ok(const char *name, size_t len)
{
	return len > 0 && len <= MAILDROP_NAME_MAX && name[0] != '.' && !memchr(name, '/', len);
}

/* Calls each(ctx, entry, length of its name) for every entry of an open
 * directory whose name may be a message (name_ok), from its start (a
 * fresh stream each time), until each says 1 (done) or -1 (failed).
 * Returns that, 0 at the end, or -1 with errno when the directory cannot
 * be read. */
static int walk(int dir, int (*each)(void *, const struct dirent *, size_t), void *ctx)
{
	int fd = openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), r = 0, e;
	struct dirent *ent;
	DIR *d;

	if (fd == -1)
		return -1;
	if (!(d = fdopendir(fd)))
		return close_keep_errno(fd);
	for (;;) {
		size_t len;
		errno = 0;
		if (!(ent = readdir(d))) {
			if (errno)
				r = -1;
			break;
		}
		len = strlen(ent->d_name);
		if (name_ok(ent->d_name, len) && (r = each(ctx, ent, len)) != 0)
			break;
	}
	e = errno ? errno : EIO;
	closedir(d);
	if (r == -1)
		errno = e;
	return r;
}

struct listing {
	struct maildrop *md;
	int which;
};

static int list_one(void *ctx, const struct dirent *e, size_t len)
{
	struct listing *l = ctx;

	/* a device or a socket is not opened at all where the file system
	 * says what an entry is */
	if (e->d_type != DT_REG && e->d_type != DT_UNKNOWN)
		return 0;
	return add(l->md, l->which, e->d_name, len);
}

static int list(struct maildrop *md, int which)
{
	struct listing l = { md, which };
	return walk(md->dir[which], list_one, &l);
}

static const char *sort_names;

static int older(const void *a, const void *b)
{
	const struct msg *x = a, *y = b;

	if (x->sec != y->sec)
		return x->sec < y->sec ? -1 : 1;
	if (x->nsec != y->nsec)
		return x->nsec < y->nsec ? -1 : 1;
	return strcmp(sort_names + x->name, sort_names + y->name);
}

static int subdir(int root, const char *name)
{
	return openat(root, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

int maildrop_open(struct maildrop *md, const char *path)
{
	struct stat st;
	int root;

	md->dir[MD_NEW] = md->dir[MD_CUR] = -1;
	md->m = 0;
	md->n = 0;
	md->skipped = md->unreadable = 0;
	md->uid = geteuid();
	if (!str_ready(&md->names, 0))
		return -1;
	root = openat(AT_FDCWD, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root == -1)
		return -1;
	if ((md->dir[MD_NEW] = subdir(root, "new")) == -1 || (md->dir[MD_CUR] = subdir(root, "cur")) == -1)
		return close_keep_errno(root);
	if (fstatat(root, "tmp", &st, AT_SYMLINK_NOFOLLOW) == -1)
		return close_keep_errno(root);
	close(root);
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	if (list(md, MD_NEW) == -1 || list(md, MD_CUR) == -1)
		return -1;
	sort_names = md->names.s;
	if (md->n)
		qsort(md->m, md->n, sizeof *md->m, older);
	return 0;
}

const char *maildrop_name(const struct maildrop *md, size_t i) { return md->names.s + md->m[i].name; }

struct search {
	const char *uniq;
	size_t ulen;
	struct str *now;
};

static int same_message(void *ctx, const struct dirent *e, size_t len)
{
	struct search *f = ctx;

	if (uidl_uniq_len(e->d_name, len) != f->ulen || memcmp(e->d_name, f->uniq, f->ulen) != 0)
		return 0;
	return str_copyb(f->now, e->d_name, len) ? 1 : -1;
}

int maildrop_find(const struct maildrop *md, size_t i, int *dir, struct str *now)
{
	const char *name = maildrop_name(md, i);
	struct search f = { name, uidl_uniq_len(name, strlen(name)), now };
	int order[2] = { MD_CUR, MD_NEW }, k, r;

	for (k = 0; k < 2; k++) {
		if ((r = walk(md->dir[order[k]], same_message, &f)) == 0)
			continue;
		*dir = order[k];
		return r;
	}
	return 0;
}

/* Anything but a regular file where a message was is a message gone. */
static int open_or_gone(int dir, const char *name)
{
	struct stat st;
	int fd = open_regular(dir, name, &st);

	if (fd == -1 && (errno == ELOOP || errno == EINVAL))
		errno = ENOENT;
	return fd;
}

int maildrop_open_msg(const struct maildrop *md, size_t i)
{
	static struct str now;
	int fd = open_or_gone(md->dir[md->m[i].dir], maildrop_name(md, i)), dir, r;

	if (fd != -1 || errno != ENOENT)
		return fd;
	r = maildrop_find(md, i, &dir, &now);
	if (r == 1)
		return open_or_gone(md->dir[dir], now.s);
	if (r == 0)
		errno = ENOENT;
	return -1;
}
