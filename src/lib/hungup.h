/* Whether the peer of a connected socket has gone, asked without waiting:
 * a service that hands a connection on checks that whoever asked is still
 * there, for a record with descriptors stays queued after its sender has
 * closed, and what was asked may have been given up on (doc/pop3.md). */
#ifndef POSTERN_HUNGUP_H
#define POSTERN_HUNGUP_H
/* 1: closed or shut down for writing on the other side (POLLHUP,
 * POLLRDHUP, POLLERR); 0: still open; -1: poll failed (errno set). */
int hung_up(int fd);
#endif
