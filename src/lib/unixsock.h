/* Unix-domain SOCK_SEQPACKET sockets between postern's services and their
 * clients (doc/tls.md): a record is read whole or not at all, and the
 * kernel names the peer's uid, which is how a service decides whom to
 * serve. */
#ifndef POSTERN_UNIXSOCK_H
#define POSTERN_UNIXSOCK_H
#include <sys/types.h>
/* A listening, non-blocking, close-on-exec socket at path, replacing a
 * stale one in one rename (path.new is its name until it listens);
 * connectable by every user (the directory's mode and the peer's uid
 * decide).  The fd, or -1 with errno set. */
int unix_listen(const char *path, int backlog);
/* A connected, close-on-exec socket to path; -1 with errno set.  A
 * service whose backlog is full makes connect wait: at most timeout_s
 * seconds (SO_SNDTIMEO, which then also bounds each send). */
int unix_connect(const char *path, int timeout_s);
/* One record from fd, waited for at most timeout_ms: its length (0: the
 * peer closed), or -1 with errno set: ETIMEDOUT when none came in time,
 * EMSGSIZE when it was longer than cap (its rest is lost), or poll's or
 * recv's.  What a client of a service reads its answers with. */
ssize_t unix_recv_record(int fd, void *buf, size_t cap, int timeout_ms);
/* The effective uid of the process that connected fd: 0, or -1. */
int unix_peer_uid(int fd, uid_t *uid);
#endif
