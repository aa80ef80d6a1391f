/* Asking postern-auth (doc/pop3.md, "postern-popup to postern-auth"): one
 * request on HOME/run/auth/socket, one answer.  postern-popup sends P, a
 * login, with the client's two descriptors; postern-smtpd sends C, a
 * check, for SMTP AUTH (doc/smtp.md).  The request holds the password:
 * it is built in a buffer that is wiped before this returns. */
#ifndef POSTERN_AUTHASK_H
#define POSTERN_AUTHASK_H
#include <stddef.h>
#include "str.h"

/* type 'P' with fds[0], fds[1] (nfds 2), or 'C' with none.  The answer:
 * 'K' right (for P: the connection is postern-pop3d's now), 'N' wrong
 * name or password, 'Z' a temporary failure that started nothing, 'U'
 * the request went out and no answer says what came of it (for P the
 * connection may be postern-pop3d's); why says what, for the last two.
 * A name or password over the limits is 'N' without asking. */
char auth_ask(char type, const char *user, size_t ulen, const char *pass, size_t plen, const char *ip,
              const int *fds, size_t nfds, struct str *why);
#endif
