/* A program that stands in postern-queue's place (postern-dkimsign,
 * postern-dkimverify): it speaks the qmail-queue interface on both sides,
 * holds the whole message in a memfd, may write fields before it, and
 * then becomes postern-queue reading the memfd from there.  The envelope
 * on fd 1 is never read here, but left for postern-queue, as is the
 * answer postern-queue writes back on it (doc/queue.md). */
#ifndef POSTERN_QQFILTER_H
#define POSTERN_QQFILTER_H
#include <stddef.h>
#include <sys/types.h>

/* Exit codes, qmail-queue's where they mean the same (doc/queue.md). */
#define QF_REFUSE 31   /* over control/databytes */
#define QF_NOMEM 51
#define QF_TIMEOUT 52
#define QF_READ 54
#define QF_CONFIG 55
#define QF_BUG 81

#define QF_RESERVE (1024 * 1024)   /* room before the message for fields */
#define QF_DEADLINE 86400          /* as postern-queue's, for reading the message */
#define QF_HELD_MAX (256ULL << 20) /* the largest message held, databytes or not */

/* The deadline: SIGALRM exits QF_TIMEOUT after seconds (unblocked, since
 * the caller's signal mask survives its exec of us); and the bound on
 * the message held: control/databytes, or QF_HELD_MAX without it. */
void qf_start(unsigned long long seconds, unsigned long long *databytes);
/* A memfd named name holding fd 0 from QF_RESERVE on; *len its length.
 * Dies QF_REFUSE past databytes plus the trace allowance, QF_NOMEM or
 * QF_READ. */
int qf_hold(const char *name, unsigned long long databytes, size_t *len);
/* The message mapped read-only (NULL for an empty one). */
const char *qf_map(int memfd, size_t len);
void qf_unmap(const char *msg, size_t len);
/* Returns when the caller starts the envelope on fd 1; exits QF_READ
 * when it closes it unwritten (a message abandoned: postern-smtpd at
 * RSET, a message too big, a client gone), so that nothing is done, or
 * logged as done, for mail that was never sent. */
void qf_envelope_coming(void);
/* postern-queue, reading memfd from start on. */
_Noreturn void qf_queue(int memfd, off_t start);
#endif
