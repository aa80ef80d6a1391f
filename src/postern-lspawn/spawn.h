/* postern-lspawn's pure rules: what a request may hold, who may receive
 * mail, and how a child's exit becomes a result.  tests/unit/lspawn.c. */
#ifndef POSTERN_LSPAWN_SPAWN_H
#define POSTERN_LSPAWN_SPAWN_H
#include <stddef.h>

#define REQ_MAX 8192     /* bytes in one request frame */
#define JOB_MAX 20       /* digits in a job id */
#define EXT_MAX_ 1000
#define TEXT_MAX 1000    /* bytes of a child's output kept */
#define KIDS_MAX 1000    /* deliveries at once */

/* Checks the six fields JOB QID USER EXT RECIPIENT SENDER.  0 if all are
 * well formed, else 1 + the index of the first bad one. */
int spawn_check(const char *const *f, const size_t *fl);
const char *spawn_field_name(int bad);

enum spawn_mode { SPAWN_REFUSED, SPAWN_USER, SPAWN_VIRTUAL, SPAWN_ALIAS };
/* Root and uids below minuid never receive mail, except the two users that
 * exist for it. */
enum spawn_mode spawn_user_allowed(const char *name, unsigned long long uid,
                                   unsigned long long minuid, const char *vmail, const char *alias);

/* The result for a child that wrote text (tlen bytes) and ended with wait
 * status: *st is K (exit 0), D (exit 100) or Z (anything else); out (at
 * least TEXT_MAX + 64 bytes) gets the text with control bytes made spaces
 * and blanks trimmed, or a default text if none.  Returns its length. */
size_t spawn_text(const char *text, size_t tlen, int status, char *out, char *st);
#endif
