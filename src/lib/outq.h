/* Frames for a peer that must never make us wait.  postern-send writes its
 * requests to a spawner with blocking writes; if the spawner wrote its
 * results the same way, each could fill the other's pipe and both would
 * wait for good.  So a spawner queues its result frames here, in memory,
 * and writes them to its non-blocking fd as the pipe takes them (poll for
 * POLLOUT while outq_waiting).  The queue is bounded by what postern-send
 * has outstanding: it stops reading results only while it writes a
 * request, and the spawner keeps reading those. */
#ifndef POSTERN_OUTQ_H
#define POSTERN_OUTQ_H
#include <stddef.h>
#include "str.h"

struct outq {
	struct str q; /* netstrings not yet written */
	int gone;     /* the peer is gone: frames are dropped */
};
#define OUTQ_INIT { STR_INIT, 0 }

/* One frame (ns_cat of payload).  0 when memory runs out; a no-op once
 * the peer is gone. */
int outq_frame(struct outq *o, const char *payload, size_t len);
/* Writes what the fd takes now.  0; or -1 (errno set) the first time a
 * write fails for good, after which the peer is gone and the queue empty. */
int outq_flush(struct outq *o, int fd);
/* Frames wait and the peer can still take them. */
int outq_waiting(const struct outq *o);
/* What waits, as far as fd takes it now (outq_flush), saying once, as a
 * warning naming peer, that the peer is gone. */
void outq_send(struct outq *o, int fd, const char *peer);
#endif
