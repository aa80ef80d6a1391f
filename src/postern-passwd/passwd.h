/* postern-passwd's pieces; main.c has the tool, doc/pop3.md the file
 * ("The password file"), which postern-auth reads. */
#ifndef POSTERN_PASSWD_H
#define POSTERN_PASSWD_H
#include <stddef.h>

#define PASSWORD_MAX 1024
#define PWFILE_MAX (4 * 1024 * 1024) /* postern-auth refuses a larger file */

/* become.c: run as root, becomes postern-auth for good; run as anyone
 * else, goes on only as the owner of dir (HOME/secret/auth).  Dies
 * otherwise. */
void become(const char *dir);

/* password.c: the new password from standard input (on a terminal: asked
 * twice, not echoed) into buf, which has room for PASSWORD_MAX + 1 bytes:
 * its length.  Dies 100 for an empty one, one with a NUL or one over
 * PASSWORD_MAX bytes. */
size_t password_read(char *buf);

/* rewrite.c: under dir/passwd.lock, writes dir/passwd anew with every
 * line of it kept but user's, and line (with its newline) added at the
 * end unless it is 0: a new file, fsync'ed and renamed over the old.
 * 1 when user had a line, 0 when not (for a delete nothing is written
 * then).  Dies 111 when the file cannot be read or written. */
int rewrite(const char *dir, const char *user, const char *line);

/* list.c: the names in file, one a line on standard output; a line that
 * is not NAME:... is named on standard error. */
void list(const char *file);
#endif
