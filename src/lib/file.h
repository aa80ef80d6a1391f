/* File helpers.  Every open uses O_CLOEXEC and O_NOFOLLOW where a symlink
 * would be a surprise; every caller checks the result. */
#ifndef POSTERN_FILE_H
#define POSTERN_FILE_H
#include <stddef.h>
#include <sys/types.h>
#include "str.h"

int open_read(const char *path);
int open_excl(const char *path, mode_t mode);   /* create, fail if it exists */
int open_append(const char *path, mode_t mode);
int fsync_dir(const char *path);
/* Reads a whole file of at most max bytes.  1 ok, 0 absent (ENOENT),
 * -1 error (errno EFBIG when over max). */
int read_file(const char *path, struct str *out, size_t max);
int read_fd(int fd, struct str *out, size_t max);
/* Joins a and b with one '/', NUL-terminated in out. */
int path_join(struct str *out, const char *a, const char *b);
#endif
