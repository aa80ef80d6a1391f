/* postern-tlsd: starts a TLS engine (postern-tlsio) for each connection whose
 * application asks for one, so that no program that speaks SMTP has a TLS
 * stack, and only sessions that use TLS pay for one (doc/tls.md).
 *
 * usage: postern-tlsd [-d notification-fd] [-u uid]...
 *
 * It runs as postern-tls under s6, listens on HOME/run/tlsd/socket, and
 * serves only postern-smtpd and postern-remote (their uids, or those given
 * with -u, from SO_PEERCRED).  Each request is one record: S (be the TLS
 * server) or, from postern-remote alone, C with a policy and the server's
 * name (be the client), and five descriptors; the answer is K when an
 * engine was started, Z and a reason when not.  At most control/concurrencytls engines run at once (default
 * 200).  It reads nothing from the network and holds no key.
 * postern-tlsd(8). */
#include <errno.h>
#include <poll.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "tlsd.h"
#include "conf.h"
#include "control.h"
#include "die.h"
#include "fmt.h"
#include "home.h"
#include "log.h"
#include "selfpipe.h"
#include "str.h"
#include "unixsock.h"

#define USAGE "postern-tlsd [-d notification-fd] [-u uid]..."
#define PENDING_MAX 64   /* connections whose request has not come yet */
#define PENDING_S 10     /* how long one may take to send it */
#define UIDS_MAX 8

static uid_t allowed[UIDS_MAX];
static size_t nallowed;
/* Client mode is outbound TLS, postern-remote's alone: a postern-smtpd
 * taken over from the network has no use for TLS connections it starts
 * itself.  Tests give their own uids with -u, and any of them may ask. */
static uid_t client_uid;
static int client_any;
static struct {
	int fd;
	time_t since;
} pending[PENDING_MAX];
static size_t npending;
static unsigned long long running, limit;
static struct str engine_path = STR_INIT;

static void allow_uid(uid_t u)
{
	if (nallowed == UIDS_MAX)
		die_usage(USAGE);
	allowed[nallowed++] = u;
}

static uid_t allow_user(const char *name)
{
	struct passwd *pw;
	errno = 0;
	pw = getpwnam(name);
	if (!pw)
		die(111, "fatal: unknown user ", name, ": run ./install");
	allow_uid(pw->pw_uid);
	return pw->pw_uid;
}

static int is_allowed(uid_t u)
{
	size_t i;
	for (i = 0; i < nallowed; i++)
		if (allowed[i] == u)
			return 1;
	return 0;
}

/* The socket is every local user's to connect to: one looping connect
 * and close must not fill the log.  Refusals of a uid we do not serve:
 * at most REFUSALS_LOGGED lines a second, the next line saying how many
 * were left out.  Those of a uid we serve (busy, a malformed request)
 * are always logged: they are what an admin looks for. */
#define REFUSALS_LOGGED 5
static void log_refusal(const char *why, uid_t uid)
{
	static time_t second;
	static unsigned long long in_second, left_out;
	struct logline l = { STR_INIT };
	time_t now = time(0);

	if (now != second) {
		second = now;
		in_second = 0;
	}
	if (!is_allowed(uid) && ++in_second > REFUSALS_LOGGED) {
		left_out++;
		return;
	}
	log_begin(&l, "refused");
	log_kvu(&l, "uid", (unsigned long long)uid);
	log_kv(&l, "why", why);
	if (left_out)
		log_kvu(&l, "not_logged_before", left_out);
	left_out = 0;
	log_end(&l);
}

/* One record back; a client that cannot take it at once has gone. */
static void answer(int conn, const char *rec)
{
	(void)send(conn, rec, strlen(rec), MSG_DONTWAIT | MSG_NOSIGNAL);
}

/* 0 when a connection was taken (or refused), -1 when none waits. */
static int take_connection(int lfd)
{
	int conn = accept4(lfd, 0, 0, SOCK_CLOEXEC | SOCK_NONBLOCK);
	uid_t uid = (uid_t)-1;

	if (conn == -1) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			warn_sys("warning: accept failed");
		return -1;
	}
	if (unix_peer_uid(conn, &uid) == -1 || !is_allowed(uid)) {
		log_refusal("uid not served", uid);
		(void)close(conn);
		return 0;
	}
	if (npending == PENDING_MAX) {
		answer(conn, "Zbusy: too many requests waiting");
		log_refusal("too many requests waiting", uid);
		(void)close(conn);
		return 0;
	}
	pending[npending].fd = conn;
	pending[npending].since = time(0);
	npending++;
	return 0;
}

/* Serves pending[i]: 1 when it is done with (and closed), 0 when its
 * record has not come yet. */
static int serve(size_t i, int timed_out)
{
	int conn = pending[i].fd;
	struct request req;
	const char *why = 0;
	uid_t uid = (uid_t)-1;
	int r;

	(void)unix_peer_uid(conn, &uid);
	r = request_read(conn, &req, &why);
	if (r == 0 && !timed_out)
		return 0;
	if (r == 0)
		why = "no request within 10 s";
	if (r == 1 && req.mode == 'C' && !client_any && uid != client_uid)
		why = "client mode is postern-remote's only";
	else if (r == 1 && running >= limit)
		why = "busy: control/concurrencytls engines running";
	if (r == 1 && why) {
		int k;
		for (k = 0; k < REQUEST_FDS; k++)
			(void)close(req.fds[k]);
	} else if (r == 1) {
		if (engine_start(engine_path.s, &req) == -1)
			why = "unable to start an engine";
		else
			running++;
	}
	if (why) {
		struct str z = STR_INIT;
		if (str_cats(&z, "Z") && str_cats(&z, why))
			answer(conn, z.s);
		str_free(&z);
		log_refusal(why, uid);
	} else {
		answer(conn, "K");
	}
	(void)close(conn);
	return 1;
}

static void reap(void)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (running)
			running--;
		if (WIFSIGNALED(status)) {
			struct logline l = { STR_INIT };
			log_begin(&l, "engine");
			log_kvu(&l, "pid", (unsigned long long)pid);
			log_kvu(&l, "signal", (unsigned long long)WTERMSIG(status));
			log_end(&l);
		}
	}
}

int main(int argc, char **argv)
{
	struct str sock = STR_INIT;
	int lfd, sfd, notify = -1, opt;
	unsigned long long u;

	progname = "postern-tlsd";
	while ((opt = getopt(argc, argv, "d:u:")) != -1) {
		switch (opt) {
		case 'd':
			if (!scan_ulong_all(optarg, strlen(optarg), &u) || u < 3 || u > 1024)
				die_usage(USAGE);
			notify = (int)u;
			break;
		case 'u':
			if (!scan_ulong_all(optarg, strlen(optarg), &u) || u > 0x7fffffffULL)
				die_usage(USAGE);
			allow_uid((uid_t)u);
			client_any = 1;
			break;
		default: die_usage(USAGE);
		}
	}
	if (optind != argc)
		die_usage(USAGE);
	if (geteuid() == 0)
		die(100, "fatal: refusing to run as root: run me as postern-tls (s6-setuidgid)");
	if (!nallowed) {
		allow_user(conf_users[USER_SMTPD]);
		allow_user(conf_users[USER_POP3]);
		client_uid = allow_user(conf_users[USER_REMOTE]);
	}
	if (control_num("concurrencytls", &limit, 200) == -1 || limit == 0)
		die(111, "fatal: control/concurrencytls is not a number of at least 1");
	if (!home_path(&engine_path, "bin/postern-tlsio") || !home_path(&sock, "run/tlsd/socket"))
		die_nomem();
	if ((sfd = selfpipe_init(SELFPIPE_CHLD)) == -1)
		die_sys(111, "fatal: unable to set up signals");
	lfd = unix_listen(sock.s, 64);
	if (lfd == -1)
		die_sys(111, "fatal: unable to listen on ", sock.s);
	{
		struct logline l = { STR_INIT };
		log_begin(&l, "ready");
		log_kv(&l, "socket", sock.s);
		log_kvu(&l, "concurrencytls", limit);
		log_end(&l);
	}
	if (notify != -1 && (write(notify, "\n", 1) != 1 || close(notify) == -1))
		die_sys(111, "fatal: unable to write to the notification fd");

	for (;;) {
		struct pollfd p[2 + PENDING_MAX];
		size_t i, n = 0;
		time_t now;
		int r;

		p[n++] = (struct pollfd){ sfd, POLLIN, 0 };
		p[n++] = (struct pollfd){ lfd, POLLIN, 0 };
		for (i = 0; i < npending; i++)
			p[n++] = (struct pollfd){ pending[i].fd, POLLIN, 0 };
		r = poll(p, (nfds_t)n, npending ? 1000 : -1);
		if (r == -1 && errno != EINTR)
			die_sys(111, "fatal: poll failed");
		if (r > 0 && p[0].revents)
			selfpipe_drain();
		if (selfpipe_term)
			break;
		reap();
		now = time(0);
		/* newest first, so that removing one keeps the others' slots */
		for (i = npending; i-- > 0;) {
			int ready = r > 0 && p[2 + i].revents;
			int late = now - pending[i].since >= PENDING_S || now < pending[i].since;
			if ((ready || late) && serve(i, late))
				pending[i] = pending[--npending];
		}
		if (r > 0 && p[1].revents) {
			/* a few at a time, so a crowd of refused peers cannot keep
			 * postern-smtpd waiting in the backlog */
			int k;
			for (k = 0; k < 16; k++)
				if (take_connection(lfd) == -1)
					break;
		}
	}
	/* engines already started finish their sessions on their own */
	if (unlink(sock.s) == -1 && errno != ENOENT)
		warn_sys("warning: unable to remove ", sock.s);
	str_free(&sock);
	str_free(&engine_path);
	return 0;
}
