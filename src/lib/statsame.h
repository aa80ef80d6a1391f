/* Whether a file looked at again (fstat) is the one read before: the same
 * inode, size, modification and change time.  How a service that reads a
 * file at every request (postern-auth's password file, postern-pspawn's
 * roster) reads it again only when it changed, an edit in place of the
 * same size included (its change time moves). */
#ifndef POSTERN_STATSAME_H
#define POSTERN_STATSAME_H
#include <sys/stat.h>
int stat_same(const struct stat *a, const struct stat *b);
#endif
