/* Forwarding: one run of HOME/bin/postern-queue for all the forward
 * addresses of a delivery, with the original envelope sender (as qmail
 * does), marked as a forwarded copy (the S record: postern-send rewrites
 * its sender with SRS, doc/srs.md), and the message with its Delivered-To
 * line added. */
#ifndef POSTERN_LOCAL_FORWARD_H
#define POSTERN_LOCAL_FORWARD_H
#include <stddef.h>
#include "str.h"

/* env is the envelope, F..\0 S\0 T..\0 ... \0, already built.  Returns 0
 * queued, 100 refused for good (postern-queue exit 11, 31, 91), 111
 * otherwise; why holds one line of text. */
int forward_inject(const char *queue, const char *dt, size_t dtlen, int msgfd,
                   const struct str *env, struct str *why);
#endif
