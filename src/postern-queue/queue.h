/* postern-queue's parts: the files it is writing (so every failure path can
 * remove them) and the envelope reader.  Exit codes are qmail-queue's. */
#ifndef POSTERN_QUEUE_QUEUE_H
#define POSTERN_QUEUE_QUEUE_H
#include <stddef.h>
#include "str.h"

#define QQ_NOMEM 51
#define QQ_TIMEOUT 52
#define QQ_WRITE 53
#define QQ_READ 54
#define QQ_CONFIG 55
#define QQ_QUEUEDIR 62
#define QQ_REFUSE 31
#define QQ_TOOLONG 11
#define QQ_BUG 81
#define QQ_FORMAT 91

#define QQ_RCPT_MAX 100000               /* recipients in one envelope */
#define QQ_ENV_MAX (16UL * 1024 * 1024)  /* bytes in one envelope */
#define QQ_DEADLINE 86400                /* seconds for reading message and envelope */

/* tmpfiles.c: the three names of one message, and what exists so far. */
void tmpfiles_name(const char *id);
const char *tmpfiles_path(int which); /* TF_ENV_TMP, TF_MESS, TF_ENV */
enum { TF_ENV_TMP, TF_MESS, TF_ENV, TF_COUNT };
void tmpfiles_mark(int which, int exists);
/* Removes every file that is not committed.  Async-signal-safe. */
void tmpfiles_remove(void);
/* Removes what is left and exits: the only way postern-queue fails after set-up. */
_Noreturn void fail(int code, int with_errno, const char *a, const char *b);
void timeout_arm(unsigned seconds);
void timeout_disarm(void); /* at the commit: no SIGALRM runs the handler after it */

/* envelope_in.c: reads the envelope from fd (bounded, streaming) into env.
 * Returns 0, or the exit code to fail with (message in *why). */
int envelope_in(int fd, struct str *env, const char **why);
#endif
