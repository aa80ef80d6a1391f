/* SRS on the way out (doc/srs.md, "Which senders are rewritten"): a
 * forwarded copy leaves for another server with its envelope sender
 * rewritten into control/srsdomain and signed with the first key of
 * HOME/secret/srs/key, so that the next server's SPF check asks this
 * host's domain and not the original sender's.  Only the frame
 * postern-send gives postern-rspawn carries the rewritten sender: the
 * queue, info/ and postern-send's own bounces keep the original. */
#ifndef POSTERN_SEND_SRSSIGN_H
#define POSTERN_SEND_SRSSIGN_H
#include "envelope.h"
#include "route.h"
#include "srs.h"
#include "str.h"

/* What the files said, as read at start and at each SIGHUP. */
#define SRSC_OFF 0      /* control/srsdomain absent, empty or no domain: nothing is rewritten */
#define SRSC_ON 1       /* the domain and the keys are there */
#define SRSC_NOKEY 2    /* the domain is there, the key file unreadable or malformed */

struct srs_conf {
	int state;            /* SRSC_* */
	struct str domain;    /* control/srsdomain (SRSC_ON, SRSC_NOKEY) */
	struct srs_keys keys; /* SRSC_ON: the first signs */
};

/* What a message sent now leaves with. */
#define SRSS_KEEP 0      /* its own sender */
#define SRSS_REWRITTEN 1 /* the SRS address srs_sender wrote */
#define SRSS_NOKEY 2     /* one that needs the key: its remote recipients wait */
#define SRSS_NOMEM -1

/* The temporary failure of a recipient that waits for the key. */
#define SRS_NOKEY_REASON "4.3.0 SRS key unavailable"

/* Reads control/srsdomain and, when it names a domain, the key file.
 * Each problem is one log line (srs_unavailable) every time it is read.
 * 0, or -1 (errno) when control/srsdomain exists but cannot be read, as
 * for every control file postern-send reads. */
int srs_conf_load(struct srs_conf *c);
/* Frees c, wiping the keys. */
void srs_conf_free(struct srs_conf *c);
/* The sender message env leaves with for a remote server on day (srs_day):
 * SRSS_REWRITTEN and out the SRS address for a forwarded copy (the S
 * record) whose sender is not empty, not #@[], not in a domain rc routes
 * locally nor control/srsdomain itself, and can be written into a local
 * part; else SRSS_KEEP (out empty), or SRSS_NOKEY if it would have been
 * rewritten had the key been there. */
int srs_sender(const struct srs_conf *c, const struct route_conf *rc, const struct envelope *env,
               unsigned long day, struct str *out);
#endif
