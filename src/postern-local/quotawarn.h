/* control/quotawarn: a mailbox past that share of its quota gets a
 * message saying so, at most once a day, before it fills and its mail
 * starts to wait (doc/quota.md, "The warning"). */
#ifndef POSTERN_LOCAL_QUOTAWARN_H
#define POSTERN_LOCAL_QUOTAWARN_H
#include "quota.h"
#include "str.h"

/* After a delivery into the Maildir root, counted in use under def: 1
 * when a warning was delivered into it (its file name in name, to be
 * counted), 0 when none was due, -1 when one was due and could not be
 * written (logged).  mailbox and to are named in it. */
int quota_warning(const char *root, const struct quota *def, const struct quota_usage *use, const char *mailbox,
                  const char *to, struct str *name);
#endif
