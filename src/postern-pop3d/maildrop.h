/* The maildrop: the messages in the new/ and cur/ of one Maildir, listed
 * once at login and sorted oldest first (modification time, then name).
 * An entry holds a file's name and size, never its bytes; RETR and TOP
 * open the file again each time.  The size is read and counted at login,
 * unless the name carries it (maildrop_name_sizes). */
#ifndef POSTERN_POP3D_MAILDROP_H
#define POSTERN_POP3D_MAILDROP_H
#include <stddef.h>
#include <sys/types.h>
#include "str.h"

#define MAILDROP_MAX 100000 /* messages listed; the rest wait for a later session */
#define MAILDROP_NAME_MAX 255

enum { MD_NEW, MD_CUR };

struct msg {
	size_t name;                /* offset of its NUL-terminated file name in names */
	unsigned long long size;    /* octets as sent (copy.h) */
	long long sec;              /* modification time, for the order */
	long nsec;
	unsigned char dir;          /* MD_NEW or MD_CUR: where it was listed */
	unsigned char deleted;      /* DELE (RSET takes it back) */
	unsigned char retrieved;    /* RETR: seen, at UPDATE */
};

struct maildrop {
	int dir[2];                 /* new/ and cur/, open for the session */
	struct msg *m;
	size_t n;
	struct str names;
	unsigned long long skipped;    /* files past MAILDROP_MAX */
	unsigned long long unreadable; /* files we may not open: not listed */
	uid_t uid;                     /* who reads: the owner of readable files */
};

/* The Maildir++ size fields of a file name, in its unique part (before
 * ':'): ",S=N" (the file's size) and ",W=M" (its size as POP3 sends it,
 * copy.h), as postern-local, Courier and Dovecot write them.  1 with both
 * set when each is there once, as 1 to 20 digits that fit, and M is a size
 * N bytes can have as sent (N <= M <= 2N+1); 0 otherwise.  maildrop_open
 * takes M for a file without reading it when the file's size is N. */
int maildrop_name_sizes(const char *name, size_t len, unsigned long long *size, unsigned long long *octets);
/* Opens path (a Maildir: new/, cur/ and tmp/ must be directories, not
 * symlinks; path itself may be one) and lists it.  Only regular files
 * count, never opened through a symlink; names starting with '.' are
 * skipped.  0, or -1 with errno. */
int maildrop_open(struct maildrop *, const char *path);
const char *maildrop_name(const struct maildrop *, size_t i);
/* Message i's file open read-only, or -1 with errno (ENOENT: it is gone).
 * A file that is no longer where it was listed is looked for by its
 * unique name in cur/ and new/: another reader may have moved it or
 * changed its flags, and it is still the same message. */
int maildrop_open_msg(const struct maildrop *, size_t i);
/* Where message i is now: 1 with its directory in *dir and its name in
 * now, 0 if it is nowhere, -1 on error (errno). */
int maildrop_find(const struct maildrop *, size_t i, int *dir, struct str *now);
#endif
