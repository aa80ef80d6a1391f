/* SRS on the way out (doc/srs.md, "Which senders are rewritten"): a
 * forwarded copy leaves for another server with its envelope sender
 * rewritten into control/srsdomain and signed by postern-srs, the key
 * holder, so that the next server's SPF check asks this host's domain
 * and not the original sender's.  Only the frame postern-send gives
 * postern-rspawn carries the rewritten sender: the queue, info/ and
 * postern-send's own bounces keep the original. */
#ifndef POSTERN_SEND_SRSSIGN_H
#define POSTERN_SEND_SRSSIGN_H
#include <time.h>
#include "envelope.h"
#include "route.h"
#include "srs.h"
#include "str.h"

/* What control/srsdomain said, as read at start and at each SIGHUP. */
#define SRSC_OFF 0      /* absent, empty or no domain: nothing is rewritten */
#define SRSC_ON 1       /* a domain: forwarded copies are signed into it */

/* After postern-srs could not sign, the next forwards wait this long
 * without asking: a postern-srs that hangs must not cost each job the
 * wait for its answer. */
#define SRS_ASK_PAUSE 30

/* How a sender is signed: srs_ask_forward (srsask.h), which asks
 * postern-srs; the unit tests give one of their own. */
typedef int (*srs_signer)(const char *sender, size_t n, const char *domain, size_t dn, struct str *out,
                          struct str *why);

struct srs_conf {
	int state;          /* SRSC_* */
	struct str domain;  /* control/srsdomain (SRSC_ON) */
	srs_signer sign;
	int failing;        /* postern-srs's last answer was no signature: said once in the log */
	time_t quiet_until; /* no asking before this (now's clock), after a failure */
	/* the last signature, kept SRS_KEEP_SIGNED seconds: a message's
	 * other recipients, in its job or in the next, need not ask again */
	struct str last_sender, last_srs;
	time_t last_at;
};
#define SRS_KEEP_SIGNED 60

/* What a message sent now leaves with. */
#define SRSS_KEEP 0      /* its own sender */
#define SRSS_REWRITTEN 1 /* the SRS address srs_sender wrote */
#define SRSS_NOKEY 2     /* one that needs a signature postern-srs did not give: its remote recipients wait */
#define SRSS_NOMEM -1

/* The temporary failure of a recipient that waits for the key. */
#define SRS_NOKEY_REASON "4.3.0 SRS key unavailable"

/* Reads control/srsdomain, a problem with it one log line
 * (srs_unavailable) every time it is read, and sets c->sign to
 * srs_ask_forward.  0, or -1 (errno) when control/srsdomain exists but
 * cannot be read, as for every control file postern-send reads. */
int srs_conf_load(struct srs_conf *c);
void srs_conf_free(struct srs_conf *c);
/* The sender message env leaves with for a remote server, now (seconds
 * since the epoch): SRSS_REWRITTEN and out the SRS address for a
 * forwarded copy (the S record) whose sender is not empty, not #@[], not
 * in a domain rc routes locally nor control/srsdomain itself, and can be
 * written into a local part; else SRSS_KEEP (out empty), or SRSS_NOKEY if
 * it would have been rewritten had postern-srs signed it: the first such
 * failure is logged (srs_unavailable, and srs_available once it signs
 * again), and for SRS_ASK_PAUSE seconds after one nothing is asked.  A
 * sender signed less than SRS_KEEP_SIGNED seconds ago is not asked for
 * again: the address made then serves (its date may be a day old, which
 * its 21 days allow). */
int srs_sender(struct srs_conf *c, const struct route_conf *rc, const struct envelope *env, time_t now,
               struct str *out);
#endif
