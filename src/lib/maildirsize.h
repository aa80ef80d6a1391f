/* The maildirsize file of a Maildir (Maildir++ quotas, quota.h): found,
 * read, counted anew and added to.  postern-local (doc/quota.md) checks
 * and adds at each delivery, postern-pop3d subtracts what a session
 * deleted.  Files are opened without following symlinks; the caller runs
 * as the Maildir's owner. */
#ifndef POSTERN_MAILDIRSIZE_H
#define POSTERN_MAILDIRSIZE_H
#include <time.h>
#include "quota.h"
#include "str.h"

/* The Maildir whose maildirsize counts dir: dir, or for a Maildir++
 * folder (one with a maildirfolder file) the directory above it. */
int maildirsize_root(const char *dir, struct str *root);

struct maildirsize {
	int has_def;       /* its first line is a definition: def is set */
	int parsed;        /* quota_read took all of it: use is set too */
	size_t size;       /* bytes of the file */
	time_t mtime;
	struct quota def;
	struct quota_usage use;
};
/* ROOT/maildirsize: 1 read (m->parsed 0 when it must be recounted, as a
 * file over QUOTA_READ_MAX is), 0 absent, -1 error (errno). */
int maildirsize_load(const char *root, struct maildirsize *m);
/* Counts the messages of ROOT (new/ and cur/, its own and each folder's:
 * the directories ".NAME" in it) and puts maildirsize in place anew,
 * written in ROOT/tmp/ and renamed over the old one, with def as its
 * definition; use gets what was counted.  0, or -1 (errno). */
int maildirsize_recount(const char *root, const struct quota *def, struct quota_usage *use);
/* maildirsize put in place anew, as maildirsize_recount does, with def
 * and one line of use's sums (negative ones as 0), without counting. */
int maildirsize_write(const char *root, const struct quota *def, const struct quota_usage *use);
/* Appends "BYTES COUNT" in one write to ROOT/maildirsize when there is
 * one: 1 added, 0 none there (nothing made), -1 error (errno). */
int maildirsize_add(const char *root, long long bytes, long long count);
#endif
