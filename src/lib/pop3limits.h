/* The limits of doc/pop3.md that two programs must agree on: what one
 * writes, the other takes.  In one place so that they cannot drift. */
#ifndef POSTERN_POP3LIMITS_H
#define POSTERN_POP3LIMITS_H

#define PASSWORD_MAX 1024            /* postern-popup sends, postern-auth takes, postern-passwd sets */
#define PWFILE_MAX (4 * 1024 * 1024) /* secret/auth/passwd: postern-passwd writes, postern-auth reads */
#define ROSTER_MAX (1024 * 1024)     /* users/pop3: postern-passwd writes, postern-pspawn reads */
#endif
