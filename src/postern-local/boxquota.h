/* Maildir++ quotas at each Maildir delivery (doc/quota.md): control/quota
 * names each mailbox's quota, and the Maildir's maildirsize keeps the
 * count that Courier, Dovecot and postern-pop3d keep too. */
#ifndef POSTERN_LOCAL_BOXQUOTA_H
#define POSTERN_LOCAL_BOXQUOTA_H
#include "quota.h"
#include "str.h"

/* One Maildir line's quota, from its check to its count. */
struct box_quota {
	struct str root;          /* the Maildir counted; empty: no quota */
	struct quota def;
	struct quota_usage use;   /* as counted, then with the delivery added */
};

/* The mailbox the next deliveries are for, as control/quota names it:
 * the user's login, or a virtual mailbox's LOCAL@DOMAIN. */
void box_quota_for(const char *mailbox);
/* Before a delivery of about msgbytes into the Maildir dir: 0 when it
 * may go in, with root the Maildir whose count it adds to (empty: no
 * quota); 111 with why ("4.2.2 mailbox over quota ...", or 4.3.x when
 * control/quota or maildirsize cannot be read); 100 ("5.2.2 ...") for a
 * message larger than the whole quota. */
int box_quota_check(const char *dir, unsigned long long msgbytes, struct str *why, struct box_quota *q);
/* After it: the file named name (",S=N" in it) counted in the root's
 * maildirsize and in q->use.  A failure is logged: the count is made
 * again once the file goes stale.  Then the owner is warned when the
 * Maildir has passed control/quotawarn (quotawarn.h), to (the
 * recipient) named in the warning. */
void box_quota_add(struct box_quota *q, const char *name, const char *to);
#endif
