/* maildirsize.h */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "maildirsize.h"
#include "file.h"
#include "io.h"
#include "uniq.h"

int maildirsize_root(const char *dir, struct str *root)
{
	struct str marker = STR_INIT;
	struct stat st;
	size_t n = strlen(dir);
	int folder;

	while (n > 1 && dir[n - 1] == '/')
		n--;
	if (!path_join(&marker, dir, "maildirfolder"))
		return 0;
	folder = lstat(marker.s, &st) == 0;
	str_free(&marker);
	if (folder) {
		/* DIR/.NAME: the Maildir is what is above it */
		while (n > 0 && dir[n - 1] != '/')
			n--;
		if (n == 0)
			return str_copys(root, ".");
		while (n > 1 && dir[n - 1] == '/')
			n--;
	}
	return str_copyb(root, dir, n);
}

/* The definition on the first line of text (n bytes): 1 with *def. */
static int first_line_def(const char *text, size_t n, struct quota *def)
{
	const char *nl = n ? memchr(text, '\n', n) : 0;

	return nl && quota_parse(text, (size_t)(nl - text), def);
}

int maildirsize_load(const char *root, struct maildirsize *m)
{
	struct str path = STR_INIT, text = STR_INIT;
	struct stat st;
	int fd, r = -1;

	memset(m, 0, sizeof *m);
	if (!path_join(&path, root, "maildirsize"))
		return -1;
	fd = openat(AT_FDCWD, path.s, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1) {
		r = errno == ENOENT ? 0 : -1;
		goto out;
	}
	if (fstat(fd, &st) == -1)
		goto out;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		goto out;
	}
	m->size = st.st_size > 0 ? (size_t)st.st_size : 0;
	m->mtime = st.st_mtime;
	r = 1;
	if (m->size > QUOTA_READ_MAX) {
		/* recounted, not read: but its definition holds */
		char first[256];
		ssize_t n;
		do
			n = read(fd, first, sizeof first);
		while (n == -1 && errno == EINTR);
		if (n == -1) {
			r = -1;
			goto out;
		}
		m->has_def = first_line_def(first, (size_t)n, &m->def);
		goto out;
	}
	if (read_fd(fd, &text, QUOTA_READ_MAX) != 1) {
		r = -1;
		goto out;
	}
	m->size = text.len;
	m->parsed = text.len && quota_read(text.s, text.len, &m->def, &m->use);
	/* a torn or mangled count under a good definition: the definition
	 * still holds, the count is made again */
	m->has_def = m->parsed || first_line_def(text.s, text.len, &m->def);
out:
	if (fd != -1)
		close(fd);
	str_free(&path);
	str_free(&text);
	return r;
}

/* Adds up the messages of DIR/new and DIR/cur: every name not starting
 * with '.', its size from lstat (the size a name says may be another
 * writer's guess).  0, or -1 when a directory cannot be read (a missing
 * one is empty). */
static int count_dir(const char *dir, const char *sub, struct quota_usage *use)
{
	struct str path = STR_INIT;
	DIR *d;
	struct dirent *e;
	int fd, r = -1;

	if (!path_join(&path, dir, sub))
		return -1;
	fd = openat(AT_FDCWD, path.s, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1) {
		r = errno == ENOENT ? 0 : -1;
		str_free(&path);
		return r;
	}
	if (!(d = fdopendir(fd))) {
		close(fd);
		str_free(&path);
		return -1;
	}
	for (errno = 0; (e = readdir(d)); errno = 0) {
		struct stat st;
		if (e->d_name[0] == '.')
			continue;
		if (fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1) {
			if (errno == ENOENT)
				continue; /* read or moved since the listing */
			break;
		}
		if (!S_ISREG(st.st_mode))
			continue;
		use->bytes += st.st_size;
		use->count++;
	}
	r = errno ? -1 : 0;
	closedir(d);
	str_free(&path);
	return r;
}

static int cat_signed(struct str *s, long long v)
{
	return v < 0 ? str_catc(s, '-') && str_catu(s, 0ULL - (unsigned long long)v)
	             : str_catu(s, (unsigned long long)v);
}

int maildirsize_write(const char *root, const struct quota *def, const struct quota_usage *use)
{
	struct str text = STR_INIT, tmp = STR_INIT, name = STR_INIT, path = STR_INIT;
	int r = -1;

	/* sums below 0 (deletions counted before the recount that saw them
	 * gone) are written as 0 */
	if (!quota_format(&text, def) || !str_catc(&text, '\n') || !cat_signed(&text, use->bytes > 0 ? use->bytes : 0) ||
	    !str_catc(&text, ' ') || !cat_signed(&text, use->count > 0 ? use->count : 0) || !str_catc(&text, '\n'))
		goto out;
	/* in tmp/ under a unique name, then over the old one at once: two
	 * writers each put a whole file in place, and readers see one; made
	 * durable first, since an empty file after a crash would read as no
	 * quota at all */
	if (!uniq_maildir(&name, "maildirsize") || !str_copys(&path, "tmp/") || !str_cat(&path, &name) ||
	    !path_join(&tmp, root, path.s) || !path_join(&path, root, "maildirsize"))
		goto out;
	if (file_replace(path.s, tmp.s, text.s, text.len, 0600, 1) == -1)
		goto out;
	r = 0;
out:
	str_free(&text);
	str_free(&tmp);
	str_free(&name);
	str_free(&path);
	return r;
}

int maildirsize_recount(const char *root, const struct quota *def, struct quota_usage *use)
{
	struct str folder = STR_INIT;
	DIR *d;
	struct dirent *e;
	int e2, r = -1;

	use->bytes = use->count = 0;
	use->lines = 1;
	if (count_dir(root, "new", use) == -1 || count_dir(root, "cur", use) == -1)
		goto out;
	if (!(d = opendir(root)))
		goto out;
	for (errno = 0; (e = readdir(d)); errno = 0) {
		struct stat st;
		if (e->d_name[0] != '.' || !strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (!path_join(&folder, root, e->d_name) || lstat(folder.s, &st) == -1)
			break;
		if (S_ISDIR(st.st_mode) && (count_dir(folder.s, "new", use) == -1 || count_dir(folder.s, "cur", use) == -1))
			break;
	}
	e2 = errno;
	closedir(d);
	if (e2) {
		errno = e2;
		goto out;
	}
	r = maildirsize_write(root, def, use);
out:
	str_free(&folder);
	return r;
}

int maildirsize_add(const char *root, long long bytes, long long count)
{
	struct str path = STR_INIT, line = STR_INIT;
	int fd, r = -1;

	if (!path_join(&path, root, "maildirsize"))
		return -1;
	/* O_APPEND without O_CREAT: a Maildir without the file has no quota
	 * to keep count for, and a line of its own would be no file */
	fd = openat(AT_FDCWD, path.s, O_WRONLY | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1) {
		r = errno == ENOENT ? 0 : -1;
		str_free(&path);
		return r;
	}
	if (cat_signed(&line, bytes) && str_catc(&line, ' ') && cat_signed(&line, count) && str_catc(&line, '\n') &&
	    write_all(fd, line.s, line.len) != -1)
		r = 1;
	if (close(fd) == -1)
		r = -1;
	str_free(&path);
	str_free(&line);
	return r;
}
