/* The UPDATE state (RFC 1939 6), after QUIT: the messages marked deleted
 * are unlinked, and the retrieved ones are marked seen as a Maildir
 * reader marks them (cr.yp.to/proto/maildir.html): a file of new/ moves to
 * cur/ as NAME:2,S, a file of cur/ gains S among its flags.  Each file is
 * first looked for where it was listed, then by its unique name, as
 * another reader may have moved it meanwhile; one that is nowhere was
 * taken by that reader and is not counted.  Nothing is fsync'ed: a crash
 * can only bring back a deleted message or take back a seen flag, and a
 * client knows the message again by its UIDL. */
#ifndef POSTERN_POP3D_UPDATE_H
#define POSTERN_POP3D_UPDATE_H
#include "maildrop.h"
#include "str.h"

/* *deleted: files unlinked, and taken off the count of maildir's
 * maildirsize when it has one (Maildir++ quotas).  Returns the number of
 * deleted messages left in place (each logged); a failure to mark a
 * message seen is logged and not counted. */
unsigned long long update_run(struct maildrop *, const char *maildir, unsigned long long *deleted);

/* The name of a Maildir file once it is seen, in out: NAME:2,S without
 * info, S put in its place among sorted flags (":2,FT" -> ":2,FST").
 * 1: out holds the new name; 0: nothing to change (S is there already, or
 * the info is not of version 2, which we do not understand); -1 out of
 * memory. */
int seen_name(struct str *out, const char *name);
#endif
