/* The names POP3 users log in with (doc/pop3.md, "Names"), checked the
 * same way by every program that handles one: postern-popup,
 * postern-auth, postern-pspawn and postern-passwd.  A name is either a
 * Unix user's (1 to 64 bytes of a-z A-Z 0-9 . _ -, not starting with .
 * or -) or a virtual mailbox's, LOCAL@DOMAIN, in lower case: LOCAL 1 to
 * 64 bytes of a-z 0-9 . _ + -, not starting with .; DOMAIN 1 to 190
 * bytes of a-z 0-9 . -, labels not empty and not starting with -. */
#ifndef POSTERN_LOGINNAME_H
#define POSTERN_LOGINNAME_H
#include <stddef.h>

#define LOGINNAME_MAX 255

/* 0: not a name; 1: a Unix user's; 2: a virtual mailbox's, with *at the
 * offset of its @. */
int login_name(const char *s, size_t n, size_t *at);
#endif
