/* File helpers.  Every open uses O_CLOEXEC and O_NOFOLLOW where a symlink
 * would be a surprise; every caller checks the result.  postern calls
 * openat(AT_FDCWD, ...) rather than open(): musl's open() follows each
 * O_CLOEXEC open with an fcntl(F_SETFD) for kernels older than 2.6.23, a
 * system call per file wasted in the programs started per message. */
#ifndef POSTERN_FILE_H
#define POSTERN_FILE_H
#include <stddef.h>
#include <sys/types.h>
#include <sys/stat.h>
#include "str.h"

int open_read(const char *path);
/* Opens a queued message for a spawner (root or postern-remote's user):
 * read-only, close-on-exec, at an fd of at least min, so that several can
 * be moved to 3, 4, ... in any order without overwriting one still to be
 * moved.  Only a regular file with one link, not a symlink: the name comes
 * from queue/mess/, which postern-queue owns, and a FIFO planted there must
 * not stop the spawner in open(), nor a hard link hand it a file of
 * someone else's (errno EINVAL then).  -1 on error. */
int open_queue_file_above(const char *path, int min);
int open_excl(const char *path, mode_t mode);   /* create, fail if it exists */
int open_append(const char *path, mode_t mode);
int fsync_dir(const char *path);
/* Opens the directory path and takes an exclusive flock on it, waiting
 * for it: how a tool that rewrites a file in it keeps two runs of itself
 * from sharing its temporary file.  The descriptor, or -1 with errno. */
int dir_lock(const char *path);
/* Puts data (n bytes) in place as path, whole, so that a reader sees the
 * old file or the new one and never a part: written to tmp (a name beside
 * path, in the same file system), then renamed over path.  A tmp left
 * there by a run that died is removed first; tmp is created exclusively
 * with mode, never through a symlink.  durable: tmp is fsync'ed before the
 * rename, else a crash may leave path empty; the directory is the
 * caller's to fsync.  0 done; -1 with errno and path as it was, tmp
 * removed unless removing the old one is what failed. */
int file_replace(const char *path, const char *tmp, const char *data, size_t n, mode_t mode, int durable);
/* file_replace for a file a group shares (a table, a key): durable, in
 * group gid with mode, both set before the rename and while only its
 * owner could read it. */
int file_replace_shared(const char *path, const char *tmp, const char *data, size_t n, gid_t gid, mode_t mode);
/* renameat2(RENAME_NOREPLACE): -1 with EEXIST rather than replace `to`.
 * A system call of its own, as musl has no wrapper for it. */
int rename_noreplace(int from_dir, const char *from, int to_dir, const char *to);
/* Opens path for writing and empties it, if it is a regular file with one
 * link (truncating a hard link would empty its other name too); *st is its
 * stat.  The fd, or -1 with errno (EPERM: not a plain single-link file). */
int open_emptied(const char *path, struct stat *st);
/* Reads a whole file of at most max bytes.  1 ok, 0 absent (ENOENT),
 * -1 error (errno EFBIG when over max). */
int read_file(const char *path, struct str *out, size_t max);
int read_fd(int fd, struct str *out, size_t max);
/* Joins a and b with one '/', NUL-terminated in out. */
int path_join(struct str *out, const char *a, const char *b);
#endif
