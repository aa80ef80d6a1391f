/* postern-local -l: after its first batch, a postern-local waits on fd 0 (a
 * SOCK_SEQPACKET socket from postern-lspawn) for more messages of the same
 * user, so that a stream of mail to one user does not start a process a
 * message (doc/pipes.md, doc/postern-local.8). */
#ifndef POSTERN_LOCAL_LINGER_H
#define POSTERN_LOCAL_LINGER_H
#include <stddef.h>
/* Waits for the next request on sock: one record of 6n NUL-terminated
 * fields (LOCAL_MSG_ARGS: EXT RECIPIENT SENDER QID MAILPARAMS RCPTPARAMS
 * of each message, 1 <= n <=
 * LOCAL_BATCH_MAX) and n message fds, which end up as fds 3 .. 3+n-1,
 * close-on-exec (linger_release frees those numbers first).  args then
 * points to the fields (until the next call).  Returns n, 0 at EOF (lspawn
 * wants no more), or -1 with *why set for the log. */
long linger_next(int sock, char ***args, const char **why);
/* Closes fds 3 .. 3+n-1, a delivered batch's: each holds /dev/null by
 * then (main.c lets a message's file go before its result), or the file
 * itself if that failed.  Done before the R line, so that a process that
 * says it waits holds none. */
void linger_release(size_t n);
/* The check behind it (tests/unit/local_linger.c, tests/fuzz/local_linger.c):
 * a record of len bytes that came with nfd files must be exactly
 * LOCAL_MSG_ARGS * nfd NUL-terminated fields, 1 <= nfd <= LOCAL_BATCH_MAX.
 * Returns nfd with field[0 .. LOCAL_MSG_ARGS*nfd-1] pointing into rec, or
 * -1. */
long linger_parse(char *rec, size_t len, size_t nfd, char **field);
#endif
