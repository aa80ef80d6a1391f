/* Forwarding: one run of HOME/bin/postern-queue for all the forward
 * addresses of a delivery, with the original envelope sender (as qmail
 * does), marked as a forwarded copy (the S record: postern-send rewrites
 * its sender with SRS, doc/srs.md), and the message with its Delivered-To
 * line added. */
#ifndef POSTERN_LOCAL_FORWARD_H
#define POSTERN_LOCAL_FORWARD_H
#include <stddef.h>
#include "dotfile.h"
#include "str.h"

/* The copy's envelope, F..\0 [R..\0] [E..\0] S\0 ([N..\0] O..\0 T..\0)... \0,
 * for the forward lines of d->e[0 .. upto): the original sender, the
 * message's RET and ENVID from mailparams, and for each address the
 * recipient's DSN request from rcptparams as RFC 3461 5.2.7 has an alias
 * pass it on (doc/dsn.md, "Forwards"): NOTIFY as given when single (the
 * forward is the recipient's one destination), else without SUCCESS; the
 * ORCPT given, else rfc822;recipient if a NOTIFY was given.  Both parameter texts are as
 * dsn_params_ok accepts them.  1, or 0 out of memory. */
int forward_envelope(struct str *env, const struct dotfile *d, size_t upto, int single, const char *sender,
                     const char *recipient, const char *mailparams, const char *rcptparams);

/* env is the envelope forward_envelope built.  Returns 0
 * queued, 100 refused for good (postern-queue exit 11, 31, 91), 111
 * otherwise; why holds one line of text. */
int forward_inject(const char *queue, const char *dt, size_t dtlen, int msgfd,
                   const struct str *env, struct str *why);
#endif
