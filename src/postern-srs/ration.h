/* R rationed, for the uids that are not postern's own (local users, as
 * sendmail -bs runs as them): RATION_PER_S a second each, in bursts of as
 * many.  A RCPT on port 25 is rationed (control/maxrcpt, maxerrors,
 * maxperip); without this a local user could test guesses at an
 * address's 40-bit signature ten thousand times a second through the
 * socket.  At 50 a second, with 8 keys, one chosen address takes
 * some 80 years of guessing on average. */
#ifndef POSTERN_SRS_RATION_H
#define POSTERN_SRS_RATION_H
#include <sys/types.h>

#define RATION_PER_S 50
#define RATION_UIDS 64 /* uids remembered; the one idle longest makes room */

/* 1 if uid may have one more R now (now_ms: a monotonic clock), else 0. */
int ration_take(uid_t uid, unsigned long long now_ms);
#endif
