/* postern-lspawn's pure rules: what a request may hold, who may receive
 * mail, and how a child's output and exit become results.
 * tests/unit/lspawn.c. */
#ifndef POSTERN_LSPAWN_SPAWN_H
#define POSTERN_LSPAWN_SPAWN_H
#include <stddef.h>
#include "batch.h"

#define REQ_MAX 8192     /* bytes in one request frame */
#define JOB_MAX 20       /* digits in a job id */
#define EXT_MAX_ 1000
#define TEXT_MAX 1000    /* bytes of one result's text kept */
/* postern-locals at once: postern-send's most (control/concurrencylocal,
 * at most 1000), the waiting ones (at most 32) and room for those told to
 * exit that have not yet */
#define KIDS_MAX 1100
/* JOB QID EXT RECIPIENT SENDER MAILPARAMS RCPTPARAMS */
#define REQ_MSG_FIELDS 7
#define REQ_FIELDS (1 + REQ_MSG_FIELDS * LOCAL_BATCH_MAX)
/* all a child may write: a line per message, each at most TEXT_MAX bytes
 * of text after its "K " */
#define OUT_MAX (LOCAL_BATCH_MAX * (TEXT_MAX + 3))
/* The wait status spawn_results is given for a child that still runs:
 * its lines are all there is to go by. */
#define SPAWN_RUNNING (-1)

/* Checks a request's fields: USER, then JOB QID EXT RECIPIENT SENDER
 * MAILPARAMS RCPTPARAMS for each of 1 to LOCAL_BATCH_MAX messages.  0 if all are well formed, -1 if
 * their number is wrong, else 1 + the index of the first bad one. */
int spawn_check(const char *const *f, const size_t *fl, size_t nf);
/* The name of field index bad - 1 (or of the count, for -1), for the log. */
const char *spawn_field_name(int bad);

enum spawn_mode { SPAWN_REFUSED, SPAWN_USER, SPAWN_VIRTUAL, SPAWN_ALIAS };
/* Root and uids below minuid never receive mail, except the two users that
 * exist for it. */
enum spawn_mode spawn_user_allowed(const char *name, unsigned long long uid,
                                   unsigned long long minuid, const char *vmail, const char *alias);

struct spawn_result {
	char st;                    /* K, H, X, D or Z */
	size_t len;
	char text[TEXT_MAX + 64];   /* no control bytes, no NUL, no blanks at the ends */
};
/* The results of a postern-local -b of n messages that wrote out (len
 * bytes) and ended with wait status (SPAWN_RUNNING: has not ended).  Line k
 * ("K text", "H text", "X text", "D text" or "Z text") is message k's; a message without such
 * a line gets Z and a text saying how the child ended ("postern-local
 * exited N", "postern-local killed by signal N", "postern-local gave no
 * result", "postern-local gave a malformed result"; a line without text
 * from a running child, "postern-local gave no reason").  r holds n.
 * Returns how many lines were well formed; *used (if not 0), the bytes
 * they took when all n were, else 0. */
size_t spawn_results(const char *out, size_t len, size_t n, int status, struct spawn_result *r,
                     size_t *used);
/* The bytes of the first n lines of out, or 0 while fewer than n are whole. */
size_t spawn_lines(const char *out, size_t len, size_t n);
#endif
