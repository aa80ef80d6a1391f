/* The line a local service logs for a connection it refuses.  Its socket
 * is every local user's to connect to, and a served peer taken over (a
 * postern-popup or postern-smtpd driven from the network) may send
 * malformed records as fast as they are closed: neither may fill the log.
 * At most REFUSALS_LOGGED lines a second, the next line written saying
 * how many were left out (not_logged_before). */
#ifndef POSTERN_REFUSAL_H
#define POSTERN_REFUSAL_H
#include <sys/types.h>

#define REFUSALS_LOGGED 5

/* `event uid=UID why=WHY [sys=SYS] [not_logged_before=N]`; sys may be 0.
 * always: logged whatever the count, and not counted (what an admin looks
 * for, from a peer that is trusted not to loop). */
void refusal_log(const char *event, uid_t uid, const char *why, const char *sys, int always);
#endif
