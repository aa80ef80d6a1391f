/* The connections (doc/tls.md, "The key holder"): each is accepted,
 * checked (SO_PEERCRED) and sent the C record at once; then one S record
 * is read and answered, and the connection closed.  All of them are served
 * from one poll loop, and none can hold up another: sockets are
 * non-blocking, and a record that does not go at once is not waited for. */
#ifndef POSTERN_KEYS_SERVE_H
#define POSTERN_KEYS_SERVE_H
#include <sys/types.h>
#include "key.h"
#include "str.h"

#define SERVE_MAX 1000      /* connections at once; past it the newest is closed */
#define SERVE_IDLE_MS 10000 /* a connection's time to send its S record */

struct serve_counts {
	unsigned long long signatures, refused, errors, timeouts, full;
};

/* Serves the connections of lfd as uid peer's until SIGTERM (sigfd is
 * selfpipe's), counting what happened in *counts. */
void serve(int lfd, int sigfd, uid_t peer, const struct str *crec, const struct key *, struct serve_counts *counts);
#endif
