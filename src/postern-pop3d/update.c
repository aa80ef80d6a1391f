#include <errno.h>
#include <fcntl.h>
#include <stdio.h> /* renameat(2) only */
#include <string.h>
#include <unistd.h>
#include "update.h"
#include "file.h"
#include "log.h"
#include "maildirsize.h"

int seen_name(struct str *out, const char *name)
{
	const char *colon = strchr(name, ':'), *f;

	if (!colon)
		return str_copys(out, name) && str_cats(out, ":2,S") ? 1 : -1;
	if (strncmp(colon, ":2,", 3) != 0 || strchr(colon + 3, 'S'))
		return 0;
	/* before the first flag that sorts after S */
	for (f = colon + 3; *f && (unsigned char)*f < 'S'; f++)
		;
	return str_copyb(out, name, (size_t)(f - name)) && str_catc(out, 'S') && str_cats(out, f) ? 1 : -1;
}

static void log_failure(const char *event, const char *name, int e)
{
	struct logline l = { STR_INIT };

	log_begin(&l, event);
	log_kv(&l, "file", name);
	log_kv(&l, "error", strerror(e));
	log_end(&l);
}

/* Where message i is, for an operation that failed with ENOENT where it
 * was listed: 1 with *dir and now set, 0 gone, -1 error (logged). */
static int refind(struct maildrop *md, size_t i, int *dir, struct str *now)
{
	int r = maildrop_find(md, i, dir, now);

	if (r == -1)
		log_failure("find_failed", maildrop_name(md, i), errno);
	return r;
}

/* unlinkat of a message file, its size added to *freed when it went. */
static int unlink_counted(int dir, const char *name, unsigned long long *freed)
{
	struct stat st;
	int have = fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_size > 0;

	if (unlinkat(dir, name, 0) == -1)
		return -1;
	if (have)
		*freed += (unsigned long long)st.st_size;
	return 0;
}

/* 1 unlinked, 0 gone already, -1 still there (logged). */
static int delete(struct maildrop *md, size_t i, unsigned long long *freed)
{
	static struct str now;
	const char *name = maildrop_name(md, i);
	int dir = md->m[i].dir, r;

	if (unlink_counted(md->dir[dir], name, freed) == 0)
		return 1;
	if (errno == ENOENT) {
		r = refind(md, i, &dir, &now);
		if (r != 1)
			return r;
		name = now.s;
		if (unlink_counted(md->dir[dir], name, freed) == 0)
			return 1;
		if (errno == ENOENT)
			return 0;
	}
	log_failure("delete_failed", name, errno);
	return -1;
}

static void mark_seen(struct maildrop *md, size_t i)
{
	static struct str now, to;
	const char *name = maildrop_name(md, i);
	int dir = md->m[i].dir, r;

	for (;;) {
		r = seen_name(&to, name);
		if (r == -1) {
			log_failure("seen_failed", name, ENOMEM);
			return;
		}
		if (r == 0 && dir == MD_CUR)
			return;
		/* never over another file: two files of one unique name are
		 * both kept */
		if (rename_noreplace(md->dir[dir], name, md->dir[MD_CUR], r ? to.s : name) == 0)
			return;
		if (errno != ENOENT || name == now.s)
			break;
		/* moved by another reader: once more from where it is now */
		if (refind(md, i, &dir, &now) != 1)
			return;
		name = now.s;
	}
	if (errno != ENOENT)
		log_failure("seen_failed", name, errno);
}

unsigned long long update_run(struct maildrop *md, const char *maildir, unsigned long long *deleted)
{
	unsigned long long left = 0, freed = 0;
	size_t i;

	*deleted = 0;
	for (i = 0; i < md->n; i++) {
		if (md->m[i].deleted) {
			int r = delete(md, i, &freed);
			if (r == 1)
				++*deleted;
			else if (r == -1)
				left++;
		} else if (md->m[i].retrieved)
			mark_seen(md, i);
	}
	/* a Maildir++ quota's count (doc/quota.md) loses what went, as
	 * Courier's and Dovecot's readers make it lose it; without this,
	 * postern-local would believe a full count for 15 minutes */
	if (*deleted && freed <= (unsigned long long)__LONG_LONG_MAX__ &&
	    maildirsize_add(maildir, -(long long)freed, -(long long)*deleted) == -1)
		log_failure("maildirsize_failed", "maildirsize", errno);
	return left;
}
