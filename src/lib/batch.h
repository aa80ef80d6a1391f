/* How many messages one delivery process takes.  postern-send gathers
 * them, the spawner opens them, the deliverer takes them as fd 3, 4, ...
 * (doc/pipes.md).  Each is an open file and a few arguments, so the
 * ceilings keep both small.
 *
 * LOCAL_BATCH_MAX: messages for one user in one postern-local.
 * REMOTE_BATCH_MAX: messages for one domain in one postern-remote, over
 * one connection if all goes well (with at most 100 recipients in all). */
#ifndef POSTERN_BATCH_H
#define POSTERN_BATCH_H
#define LOCAL_BATCH_MAX 32
#define REMOTE_BATCH_MAX 32
/* What postern-local is given for each message, on its command line and
 * in a lingering one's records: EXT RECIPIENT SENDER QID MAILPARAMS
 * RCPTPARAMS (doc/pipes.md). */
#define LOCAL_MSG_ARGS 6
#endif
