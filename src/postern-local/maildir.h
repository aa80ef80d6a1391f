/* Delivery into one Maildir, exactly as cr.yp.to/proto/maildir.html says:
 * a unique name, DIR/tmp/NAME created with O_EXCL, written, fsync'ed,
 * linked into DIR/new/NAME,S=N,W=M (rename where the file system has no
 * hard links), DIR/new fsync'ed.  N is the file's size and M its size as
 * POP3 sends it (copy.h), the Maildir++ fields postern-pop3d reads instead
 * of the file.  On any failure the tmp file is removed. */
#ifndef POSTERN_LOCAL_MAILDIR_H
#define POSTERN_LOCAL_MAILDIR_H
#include <stddef.h>
#include <sys/types.h>
#include "str.h"

/* The new/ directories a batch has renamed copies into and not yet
 * fsync'd, held open (close-on-exec): main.c holds those messages'
 * answers until maildir_sync has made them durable, one fsync of each
 * directory for all of them.  Open, not named: a name may be relative to
 * a home or a virtual mailbox the batch has left since. */
#define DIRSYNC_MAX 16
struct dirsync {
	int fd[DIRSYNC_MAX];
	dev_t dev[DIRSYNC_MAX];       /* which directory each is, to hold it once */
	ino_t ino[DIRSYNC_MAX];
	struct str name[DIRSYNC_MAX]; /* as the dot file named it, for the text */
	size_t n;
};

/* Writes pre (the trace lines) and then the whole of msgfd, read with
 * pread from offset 0, so the same fd serves every delivery.  Returns 0
 * when the file is in new/ and durable, or (later not 0) in new/ with
 * new/'s fsync left to maildir_sync: then the bit of new/ in later is set
 * in *mask.  Otherwise 111 with why holding one line with an enhanced
 * status code ("4.2.1 Maildir missing: ...").  name receives the file
 * name in new/ (without directory, with its ",S=" and ",W=") when not
 * null. */
int maildir_deliver(const char *dir, const char *pre, size_t prelen, int msgfd, struct str *why,
                    struct str *name, struct dirsync *later, unsigned *mask);
/* fsyncs every directory in later and empties it.  Returns the bits of
 * those that failed, why holding the first failure's text; 0 if all were
 * made durable. */
unsigned maildir_sync(struct dirsync *later, struct str *why);
/* The host part of Maildir names: gethostname(), or "localhost". */
const char *maildir_host(void);
#endif
