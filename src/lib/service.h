/* What postern's local services share (postern-tlsd, postern-auth,
 * postern-pspawn, postern-dkim; doc/tls.md, doc/pop3.md, doc/dkim.md):
 * the options -d FD (s6's notification fd), -u UID (a uid to serve
 * instead of the default ones) and, for a program that sets
 * checks_option, -c UID (a uid served for check requests only, instead of
 * the default ones: postern-auth's postern-submit, whose postern-smtpd -a
 * may check a password but must never start a session), the uids served
 * (or every uid but some: postern-dkim's local users), the start of a
 * service that holds secrets, readiness, the accept that refuses an
 * unserved peer unread, and, for the services that take many connections
 * at once, the connections whose request has not come yet (at most so
 * many a uid, for a service that sets uid_pending_max) and the loop's
 * wait.  Each program keeps what is its own: the record, the answer, what
 * it starts, and what a check-only peer may ask. */
#ifndef POSTERN_SERVICE_H
#define POSTERN_SERVICE_H
#include <poll.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>
#include "str.h"

#define SERVICE_UIDS_MAX 8     /* uids served: -u, and -c, each at most this often */
#define SERVICE_PENDING_MAX 64 /* connections whose request has not come yet */
/* ... of which the last few are kept for the uids of -u alone: others,
 * filling the table however many uids they are, cannot keep those out
 * (postern-send's signatures from postern-srs, postern-submit's from
 * postern-dkim) */
#define SERVICE_PENDING_KEPT 8
#define SERVICE_ACCEPT_BATCH 16 /* connections taken per wake-up */

struct service {
	/* the program's, before service_options */
	const char *usage;
	const char *refusal;  /* the event of a refusal line: "refused", "dropped" */
	int served_logged;    /* 1: a served peer's refusals are always logged */
	int checks_option;    /* 1: -c is an option; else it is a usage error */
	time_t pending_s;     /* how long a request may take to come */
	size_t uid_pending_max; /* 0: no limit; else the connections one uid
	                         * may have pending, but a uid of uids (-u,
	                         * service_serve_user), which has none: so that
	                         * one peer cannot fill the table for all */
	/* service_options' and the functions' below */
	int notify;           /* -d's fd, or -1 */
	size_t nuids;         /* 0 after service_options: no -u given */
	uid_t uids[SERVICE_UIDS_MAX];
	size_t nchecks;       /* 0 after service_options: no -c given */
	uid_t checks[SERVICE_UIDS_MAX]; /* served for checks only */
	int all_but;          /* 1: every uid not in denied is served too */
	const uid_t *denied;  /* the caller's, ndenied of them */
	size_t ndenied;
	size_t npending;
	struct {
		int fd;
		uid_t uid;    /* the peer's */
		time_t since; /* seconds_now() */
	} pending[SERVICE_PENDING_MAX];
	/* service_wait's, for service_serve: the self-pipe, the listening
	 * socket, then the pending connections in the table's order */
	struct pollfd p[2 + SERVICE_PENDING_MAX];
	int polled;           /* poll found something */
};

/* Reads -d FD (3 to 1024), -u UID and, with checks_option, -c UID (at
 * most 0x7fffffff), each -u served for everything and each -c for checks
 * only; dies 100 with the usage for anything else (-c without
 * checks_option, an argument) included. */
void service_options(struct service *, int argc, char **argv);
/* Serves user name's uid too (the default when no -u was given), and
 * returns it; dies 111 for an unknown user. */
uid_t service_serve_user(struct service *, const char *name);
/* The same, for checks only (postern-auth's default for postern-submit). */
uid_t service_check_user(struct service *, const char *name);
/* User name's uid; dies 111 for an unknown user. */
uid_t service_user_uid(const char *name);
/* Serves every uid but the n of denied too, besides those served already
 * (postern-dkim's local users: anyone but postern's own).  denied is the
 * caller's, and must outlive s. */
void service_serve_all_but(struct service *, const uid_t *denied, size_t n);
/* 1 when the uid is served, for everything or for checks only (on a
 * list, or, after service_serve_all_but, on none of the denied). */
int service_serves(const struct service *, uid_t);
/* 1 when the uid is served for everything: on the -u list (or
 * service_serve_user's). */
int service_serves_all(const struct service *, uid_t);
/* 1 when the uid is served for checks only: on the -c list and not on
 * the -u one (a uid given with both is served for everything). */
int service_checks_only(const struct service *, uid_t);
/* The start of a service that holds secrets (postern-auth's passwords,
 * postern-dkim's keys), after service_options: refuses root, real or
 * effective (dies 100: "run me as user"); makes the process undumpable,
 * so that it leaves no core file and no other process of the user's may
 * ptrace it; makes -d's fd close-on-exec.  Dies 111 when it cannot. */
void service_hold_secrets(struct service *, const char *user);
/* The listening socket HOME/name (unixsock.h's unix_listen, backlog
 * connections waiting): its fd, its path in *path; dies 111 when it
 * cannot. */
int service_listen(struct str *path, const char *name, int backlog);
/* At the end: removes the socket at path; a warning when it cannot (and
 * it was there). */
void service_unlisten(const char *path);
/* s6's readiness: a newline on -d's fd, which is then closed (nothing
 * without -d).  Dies 111 when it cannot. */
void service_ready(struct service *);
/* A refusal line (refusal.h), always logged for a served uid when
 * served_logged. */
void service_refused(const struct service *, uid_t uid, const char *why, const char *sys);
/* One record back, without waiting: a peer that cannot take it at once
 * has gone.  0 sent whole, or -1 with errno set (a short send: EMSGSIZE),
 * for a service that says so in its log. */
int service_answer(int conn, const void *rec, size_t n);

/* Polls p, n of them, for at most ms (-1: no end), where p[0] is the
 * self-pipe (selfpipe.h), which is drained here when it has something:
 * poll's count, 0 after EINTR; dies 111 when poll fails.  The caller
 * looks at selfpipe_term after this, after the drain: a SIGTERM caught
 * between a look at the flag and the drain would lose its byte and leave
 * poll asleep. */
int service_poll(struct pollfd *p, size_t n, int ms);

/* Accepts one connection (close-on-exec, non-blocking): its fd, with
 * *uid its peer's, when that uid is served, for checks only too (the
 * caller asks service_checks_only what it may request); -2 when it is
 * not (closed unread, what it sent and its descriptors with it, and
 * logged "uid not served"); -1 when none waits (an accept error is
 * logged). */
int service_accept(struct service *, int lfd, uid_t *uid);
/* Takes up to SERVICE_ACCEPT_BATCH connections into the pending table
 * (a few at a time, so that a crowd of refused peers cannot keep a
 * served one waiting in the backlog); one over uid_pending_max of its
 * uid's is closed unread and logged (a refusal, "too many connections of
 * the uid waiting"); one over SERVICE_PENDING_MAX, or over
 * SERVICE_PENDING_MAX - SERVICE_PENDING_KEPT for a uid not of uids, is
 * answered "Zbusy: too many requests waiting" and closed. */
void service_take(struct service *, int lfd);
/* The pending connections' pollfds (POLLIN) into p: how many. */
size_t service_pollfds(const struct service *, struct pollfd *p);
/* Calls serve(conn, late) for each pending connection whose pollfd in p
 * (service_pollfds' order; none looked at when !polled) has an event, or
 * that has waited pending_s seconds (late); one for which serve returns
 * 1 has been closed, and leaves the table. */
void service_serve_pending(struct service *, const struct pollfd *p, int polled, int (*serve)(int conn, int late));
/* The loop's wait of a service that takes many connections at once:
 * polls (service_poll) the self-pipe sfd, the listening socket lfd and the
 * pending connections for at most ms (-1: no end), and at most a second
 * while any is pending, so that a late one is seen.  0 when SIGTERM or
 * SIGINT has come (selfpipe_term), else 1: the caller does what is its
 * own (reaping its children), then service_serve. */
int service_wait(struct service *, int sfd, int lfd, int ms);
/* After service_wait: service_serve_pending with what it found, then
 * service_take when the listening socket had connections. */
void service_serve(struct service *, int (*serve)(int conn, int late));
/* Starts conn's pending_s anew, for a connection that carries several
 * records, each of which may then take pending_s to come (a connection
 * not in the table is left alone). */
void service_renew(struct service *, int conn);
/* Closes every pending connection unanswered. */
void service_close_pending(struct service *);
#endif
