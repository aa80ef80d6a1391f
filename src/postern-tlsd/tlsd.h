/* postern-tlsd's pieces; main.c has the service, doc/tls.md the request. */
#ifndef POSTERN_TLSD_H
#define POSTERN_TLSD_H
#include <sys/types.h>

#define REQUEST_FDS 5

/* request.c: reads the one record of a request.  1: a server request, its
 * descriptors in fds (close-on-exec); 0: no record yet; -1: refused, with
 * why set to the reason and every descriptor that came with it closed. */
int request_read(int conn, int fds[REQUEST_FDS], const char **why);

/* engine.c: starts HOME/bin/postern-tlsio on the request's descriptors.
 * The pid, or -1 (logged).  The descriptors are closed either way. */
pid_t engine_start(const char *path, int fds[REQUEST_FDS]);
#endif
