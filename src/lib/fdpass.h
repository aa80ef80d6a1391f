/* One record with descriptors over a Unix SOCK_SEQPACKET socket
 * (SCM_RIGHTS): how postern's local services hand a connection on
 * (doc/pop3.md, doc/tls.md).  A record is read whole or refused whole:
 * one that is longer than the buffer, or that carries more descriptors
 * than asked for, closes every descriptor it carried. */
#ifndef POSTERN_FDPASS_H
#define POSTERN_FDPASS_H
#include <stddef.h>

#define FDPASS_MAX 8 /* descriptors one record may carry */

/* Sends rec (n > 0 bytes) with nfds (at most FDPASS_MAX) descriptors.
 * 0, or -1 with errno set (EIO: sent short). */
int fdpass_send(int sock, const char *rec, size_t n, const int *fds, size_t nfds);

/* Receives one record into buf (cap bytes) and its descriptors into fds
 * (close-on-exec; at most max of them).  1 with *n and *nfds set; 0 at
 * end of file; -1 with errno set: EAGAIN or EINTR (flags may hold
 * MSG_DONTWAIT), EMSGSIZE for a record longer than cap or with more than
 * max descriptors (none of them left open), or the recvmsg error. */
int fdpass_recv(int sock, char *buf, size_t cap, size_t *n, int *fds, size_t max, size_t *nfds, int flags);

/* Closes fds[0..nfds). */
void fdpass_close(int *fds, size_t nfds);
#endif
