/* postern-send's shared state: the messages it knows, the two run queues
 * (fresh first, then retries by time) and its settings. */
#ifndef POSTERN_SEND_H
#define POSTERN_SEND_H
#include <stddef.h>
#include "batch.h"
#include "envelope.h"
#include "route.h"
#include "srssign.h"
#include "str.h"
#include "uniq.h"

#define CONC_MAX 1000          /* ceiling for control/concurrencylocal and concurrencyremote */
#define RJOB_RCPTS 100         /* recipients in one remote job, all its messages together (doc/pipes.md) */
#define RJOB_MSGS REMOTE_BATCH_MAX /* messages in one remote job: one connection if all goes well */
#define RJOB_WAIT_SCAN 4096    /* waiting jobs looked at for one remote job's other messages */
#define RJOB_BYTES 120000      /* bytes of one remote job frame */
#define RJOB_SCAN 1000         /* recipients looked at for one job's batch */
#define CLEAN_OUTSTANDING 64   /* requests to postern-clean not yet answered */
#define ENVELOPE_MAX (64 * 1024 * 1024)
#define RESCAN_INTERVAL 300    /* seconds between scans of mess/ */
#define EXPIRED_PREFIX "message expired in queue; last error: "
#define INJECT_WAIT "15"       /* seconds a bounce's postern-dkimsign may hold the scheduler (its -t) */
#define SIGN_GIVEUP_S 3600     /* a bounce whose signing fails this long (at most) goes unsigned */
/* what postern-qctl asked for a message (queue/cancel/, doc/queue.md) */
#define CANCEL_DELETE 1 /* no bounce */
#define CANCEL_BOUNCE 2
#define CANCEL_DELETE_REASON "deleted from the queue by the administrator"
#define CANCEL_BOUNCE_REASON "returned to the sender by the administrator"
/* pseudo recipient indexes in the retry heap */
#define IDX_BOUNCE ((size_t)-1) /* try the bounce again */
#define IDX_CLEAN ((size_t)-2)  /* ask postern-clean again */

/* fds from postern-start (doc/pipes.md) */
#define FD_LSPAWN_REQ 3
#define FD_LSPAWN_RES 4
#define FD_CLEAN_REQ 5
#define FD_CLEAN_RES 6
#define FD_RSPAWN_REQ 7
#define FD_RSPAWN_RES 8
#define FD_READY 9

struct rcpt {
	int st;                      /* enum rstate_kind */
	int busy;                    /* a delivery is running */
	unsigned long long attempts; /* temporary failures so far */
	unsigned long long next;     /* next attempt; 0: fresh */
	struct str why;              /* last reason */
};

/* M_GONE: finished and forgotten, freed when no queue entry names it */
enum msg_stage { M_ACTIVE, M_CLEANQ, M_CLEANING, M_BROKEN, M_GONE };

struct msg {
	char qid[QID_MAX + 1];
	size_t qidlen;
	struct str envbuf;
	struct envelope env;
	struct rcpt *r;
	unsigned long long arrival;
	size_t pending;  /* recipients still RS_PENDING */
	size_t busy;     /* deliveries running */
	int bounced;     /* a B record exists */
	int warned;      /* a W record exists: the delay warning went out */
	int cancel;      /* 0, or CANCEL_DELETE or CANCEL_BOUNCE: postern-qctl gave it up */
	unsigned long long sign_failing; /* since when its signed bounce or warning fails; 0 */
	int has_info;    /* info/QID may exist */
	size_t info_len;   /* bytes in info/QID, as far as we wrote or read them */
	size_t info_limit; /* a record that takes it past this rewrites it compacted */
	int info_torn;     /* info/QID may end in a torn line (no LF) */
	size_t queued;   /* entries naming this message in the run queues */
	enum msg_stage stage;
	struct msg *hnext;
	struct msg *cnext; /* clean queue */
};

struct settings {
	struct str me;
	struct str doublebounceto; /* full address */
	struct route_conf rc;
	unsigned long long conc, retrymin, retrymax, lifetime;
	unsigned long long concremote, concdomain, bouncewarn;
	unsigned long long concuser; /* local deliveries at once to one user */
	int dkim; /* bounces go through postern-dkimsign -d ME (doc/dkim.md) */
	struct srs_conf srs; /* control/srsdomain, and how postern-srs fares (doc/srs.md) */
};

extern struct settings set;
extern unsigned long long now;

/* infopool.c: emptied info/ files for reuse (doc/queue.md) */
void infopool_init(void);
void infopool_take(const char *path); /* before a message's first record */
void infopool_put(const char *path);  /* instead of unlinking info/QID */

/* queue.c */
struct msg *msg_find(const char *qid, size_t len);
void msg_load(const char *qid, size_t len);   /* from mess/QID.env; logs; queues its recipients */
void msg_forget(struct msg *m);
size_t msg_forget_broken(void);                /* SIGHUP: those left alone, looked at again */
void scan_mess(void);                          /* loads every committed message not yet known */
void drop_orphan_info(void);
void sched_dispatch(void);                     /* starts what may start now */
unsigned long long sched_next_due(void);       /* earliest retry or domain sweep, 0 if none */
void sched_result(const char *job, size_t jlen, char status, const char *text, size_t tlen);
void clean_result(const char *qid, size_t len, char status);
void clean_flush(void);
size_t sched_inflight(void);
/* a result frame from postern-rspawn (doc/pipes.md) */
void rsched_result(const struct str *payload);
size_t clean_outstanding(void);
int record(struct msg *m, const struct str *line); /* appends to info/QID */
void msg_check_done(struct msg *m);
size_t sched_flush(void);                      /* postern-qctl flush: every retry due now */
size_t sched_flush_msg(struct msg *m);         /* postern-qctl flush ID: m's retries due now */
size_t msg_cancel(struct msg *m, int how);     /* postern-qctl delete or bounce */

/* cancel.c: the requests postern-qctl leaves in queue/cancel/ */
void cancel_scan(void);                         /* reads them; gives up the messages known */
int cancel_wanted(const char *qid, size_t len); /* what is asked for qid: 0 or CANCEL_* */
void cancel_apply(struct msg *m, int how);      /* gives m up (once), logged */
void cancel_finished(const char *qid, size_t len); /* qid left the queue: its request goes */

/* bounce.c */
/* 1: the report (bounce) injected, or not to be (by rule, or no NOTIFY
 * asks for it), and B recorded; 0: try again later */
int bounce(struct msg *m);
/* 1 if m, finished, has a success to report (NOTIFY=SUCCESS, doc/dsn.md):
 * then it gets a report even with nothing failed */
int bounce_successes(const struct msg *m);
/* the one delay warning for m (RFC 3464, Action: delayed); 1 sent or not needed */
int bounce_warn(struct msg *m);
#endif
