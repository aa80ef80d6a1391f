/* postern-passwd's pieces; main.c has the tool, doc/pop3.md the files
 * ("The password file", which postern-auth reads; "The roster", which
 * postern-pspawn reads). */
#ifndef POSTERN_PASSWD_H
#define POSTERN_PASSWD_H
#include <stddef.h>
#include <sys/types.h>
#include "pop3limits.h"

#define PASSWORD_LINE_MAX 248 /* what a PASS line of 255 bytes can carry (doc/pop3.md) */

/* become.c: who_runs, at the start: run as root, looks postern-auth up;
 * run as anyone else, goes on only as the owner of authdir
 * (HOME/secret/auth) and, when the roster is to change, of usersdir
 * (HOME/users).  Dies otherwise.  become: as root, becomes postern-auth
 * for good; as anyone else, nothing. */
struct who {
	int root;
	uid_t uid;
	gid_t gid;
};
void who_runs(const char *authdir, const char *usersdir, int roster, struct who *w);
void become(const struct who *w);

/* password.c: the new password from standard input (on a terminal: asked
 * twice, not echoed) into buf, which has room for PASSWORD_MAX + 1 bytes:
 * its length.  Dies 100 for an empty one, one over PASSWORD_MAX bytes,
 * or one with a byte no POP3 client can send (below 0x20, or 0x7f);
 * warns of one over PASSWORD_LINE_MAX. */
size_t password_read(char *buf);

/* rewrite.c: a file of one line a name, in dir. */
struct table {
	const char *dir;      /* HOME/secret/auth, or HOME/users */
	const char *name;     /* passwd, or pop3; NAME.lock and NAME.new beside it */
	char sep;             /* what ends the name on a line: ':', or 0 when the line is the name */
	size_t max;           /* the most its reader takes */
	const char *max_text; /* the same, for messages */
};
/* Under dir/NAME.lock, writes dir/NAME anew with every line of it kept
 * but user's, and line (with its newline) added at the end unless it is
 * 0: a new file, fsync'ed and renamed over the old.  Nothing is written
 * for a delete of a name not there, nor when line is already there, once.
 * 1 when user had a line, 0 when not.  Dies 111 when the file cannot be
 * read or written, 100 when it would grow over max.  With hold, the lock
 * is kept until the process exits (through a change of user: a flock
 * belongs to the open file, not the user). */
int rewrite(const struct table *t, const char *user, const char *line, int hold);

/* list.c: the names in file, one a line on standard output; a line that
 * is not NAME:... is named on standard error. */
void list(const char *file);
#endif
