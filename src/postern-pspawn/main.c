/* postern-pspawn: starts postern-pop3d as root for each user postern-auth
 * has let in, so that no program that reads the network or the password
 * file holds root (doc/pop3.md).
 *
 * usage: postern-pspawn [-d notification-fd] [-u uid]...
 *
 * It runs as root under s6, listens on HOME/run/pspawn/socket, and serves
 * only postern-auth (its uid, or those given with -u, from SO_PEERCRED).
 * Each request is one record, U USER \0 REMOTEIP \0, with two descriptors:
 * the client's read and write sides.  It starts nothing for a USER not
 * in HOME/users/pop3, root's roster of POP3 users (postern-auth is not
 * trusted to name just anyone).  It looks the user up (a Unix user,
 * or postern-vmail for a virtual mailbox LOCAL@DOMAIN), refuses root, uids
 * below control/minuid and group 0, and starts HOME/bin/postern-pop3d on
 * those descriptors with the user's identity in its environment, at
 * most control/concurrencypop3 at once and control/concurrencypop3peruser
 * for one login name; the answer is K when one was started, Z and a
 * reason when not.  Anything malformed is closed with no answer.  It
 * parses nothing else, and reads nothing from the network.
 *
 * The sessions are its children: it reaps them, and SIGKILLs one that has
 * lasted control/timeoutpop3session seconds, so that no user can hold
 * slots for ever by keeping sessions open or stopped.  postern-pspawn(8). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>
#include "pspawn.h"
#include "conf.h"
#include "control.h"
#include "die.h"
#include "fdpass.h"
#include "home.h"
#include "hungup.h"
#include "log.h"
#include "selfpipe.h"
#include "service.h"
#include "str.h"
#include "unixsock.h"

/* The socket is every local user's to connect to, and a served peer that
 * went wrong may loop: one looping connect or malformed record must not
 * fill the log.  Connections closed unanswered ("dropped") are logged at
 * most a few a second (src/lib/refusal.h).  Refusals of well-formed
 * requests (Z) are always logged: they are what an admin looks for, and
 * postern-auth sends one per login at most.  A request may take
 * pending_s to come: postern-auth sends it right after its connect, so
 * only a stopped or broken peer takes longer. */
static struct service svc = {
	.usage = "postern-pspawn [-d notification-fd] [-u uid]...",
	.refusal = "dropped",
	.pending_s = 5,
};
static struct str pop3d_path = STR_INIT;

static void answer(int conn, const char *rec)
{
	(void)service_answer(conn, rec, strlen(rec));
}

/* The control files, read at each request: a login is rare enough that
 * four small reads cost nothing, and an edit then takes effect at the
 * next login with no signal to send.  0, or why no session can start. */
struct settings {
	unsigned long long minuid, limit, peruser, lifetime;
};
static const char *settings(struct settings *s)
{
	if (control_num("minuid", &s->minuid, 1000) == -1)
		return "unable to read control/minuid";
	if (control_num("concurrencypop3", &s->limit, 50) == -1 || s->limit == 0 || s->limit > KIDS_MAX)
		return "control/concurrencypop3 is not a number from 1 to 10000";
	if (control_num("concurrencypop3peruser", &s->peruser, 4) == -1 || s->peruser == 0 || s->peruser > KIDS_MAX)
		return "control/concurrencypop3peruser is not a number from 1 to 10000";
	if (control_num("timeoutpop3session", &s->lifetime, 10800) == -1 || s->lifetime < 5 || s->lifetime > 604800)
		return "control/timeoutpop3session is not a number from 5 to 604800";
	return 0;
}

/* The lifetime the main loop holds the sessions to: the last one read
 * well (at start, at a request, at SIGHUP).  A file that goes bad refuses
 * logins but does not set the running sessions free. */
static unsigned long long lifetime;

/* Starts the session req asks for: 0, or why not (the Z answer).  The
 * limits come before the lookup: they cost no system call. */
static const char *start(const struct request *req)
{
	struct settings s;
	struct account a;
	const char *why;
	pid_t pid;
	int r;

	if ((why = settings(&s)))
		return why;
	lifetime = s.lifetime;
	if ((why = roster_check(req->user)))
		return why;
	if (kids_running() >= s.limit)
		return "too many POP3 sessions";
	if (kids_of(req->user) >= s.peruser)
		return "too many POP3 sessions for this user";
	if ((why = account_get(req->user, s.minuid, &a)))
		return why;
	if ((r = pop3d_start(pop3d_path.s, &a, req, &pid)) != 0) {
		errno = r;
		warn_sys("warning: unable to start ", pop3d_path.s);
		return "unable to start postern-pop3d";
	}
	kids_add(pid, &a, req);
	return 0;
}

/* A line about a request that got no session: refused (answered Z) or
 * skipped (nobody left to answer). */
static void log_request(const char *event, const struct request *req, const char *why)
{
	struct logline l = { STR_INIT };

	log_begin(&l, event);
	log_kv(&l, "user", req->user);
	log_kv(&l, "ip", req->ip);
	log_kv(&l, "why", why);
	log_end(&l);
}

/* Serves a pending connection: 1 when it is done with (and closed), 0
 * when its record has not come yet.
 *
 * A record with descriptors stays queued after postern-auth has closed
 * its end: one that gave up waiting (it waits 10 s) has answered its
 * client already, and postern-popup still holds the connection.  Such a
 * request is not started, or two programs would read one client. */
static int serve(int conn, int late)
{
	struct request req;
	const char *why;
	uid_t uid = (uid_t)-1;
	int r = request_read(conn, &req, &why), gone;

	if (r == 0 && !late)
		return 0;
	if (r <= 0) {
		(void)unix_peer_uid(conn, &uid);
		service_refused(&svc, uid, r == 0 ? "no request within 5 s" : why, 0);
	} else if ((gone = hung_up(conn)) != 0) {
		fdpass_close(req.fds, REQUEST_FDS);
		log_request("skipped", &req, gone == 1 ? "postern-auth closed the connection before the start"
		                                       : "unable to poll the connection");
	} else {
		why = start(&req);
		fdpass_close(req.fds, REQUEST_FDS); /* the child has its own */
		if (why) {
			struct str z = STR_INIT;
			if (!str_copys(&z, "Z") || !str_cats(&z, why))
				die_nomem();
			answer(conn, z.s);
			str_free(&z);
			log_request("refused", &req, why);
		} else
			answer(conn, "K");
	}
	(void)close(conn);
	return 1;
}

/* 0, 1 and 2 open, so that no descriptor received lands on one of them
 * (pop3d_start's dup2s count on it) and the log is where it should be. */
static void std_fds(void)
{
	int fd;
	for (fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) == -1 && openat(AT_FDCWD, "/dev/null", O_RDWR) != fd)
			die_sys(111, "fatal: unable to open /dev/null");
}

int main(int argc, char **argv)
{
	struct str sock = STR_INIT;
	struct settings s;
	int lfd, sfd;
	const char *why;

	progname = "postern-pspawn";
	service_options(&svc, argc, argv);
	/* real and effective: only root can start a process as the user, and
	 * a setuid copy is no way to run a service */
	if (getuid() != 0 || geteuid() != 0)
		die(100, "fatal: must run as root: only root can start a process as the user");
	std_fds();
	if (!svc.nuids)
		(void)service_serve_user(&svc, conf_users[USER_AUTH]);
	/* read now too, so that a bad file stops the start, not only logins */
	if ((why = settings(&s)))
		die(111, "fatal: ", why);
	lifetime = s.lifetime;
	if (!home_path(&pop3d_path, "bin/postern-pop3d") || !home_path(&sock, "run/pspawn/socket"))
		die_nomem();
	if (chdir("/") == -1)
		die_sys(111, "fatal: unable to chdir to /");
	/* SIGHUP reads the settings again, for control/timeoutpop3session:
	 * the others count only at a login, which reads them anyway, but a
	 * lower lifetime should reach the sessions running without waiting
	 * for one. */
	if ((sfd = selfpipe_init(SELFPIPE_CHLD | SELFPIPE_HUP)) == -1)
		die_sys(111, "fatal: unable to set up signals");
	if ((lfd = unix_listen(sock.s, 64)) == -1)
		die_sys(111, "fatal: unable to listen on ", sock.s);
	{
		struct logline l = { STR_INIT };
		log_begin(&l, "ready");
		log_kv(&l, "socket", sock.s);
		log_kvu(&l, "minuid", s.minuid);
		log_kvu(&l, "concurrencypop3", s.limit);
		log_kvu(&l, "concurrencypop3peruser", s.peruser);
		log_kvu(&l, "timeoutpop3session", s.lifetime);
		log_end(&l);
	}
	service_ready(&svc);

	for (;;) {
		struct pollfd p[2 + SERVICE_PENDING_MAX];
		size_t n = 2;
		long long due;
		int r, ms;

		/* the ended are reaped before the old are killed: a session
		 * that ended just now is not logged as killed */
		kids_reap();
		/* awake for the next session due to end, and each second while
		 * a request is late */
		due = kids_expire(lifetime);
		ms = due == -1 ? -1 : (int)(due * 1000);

		if (svc.npending && (ms == -1 || ms > 1000))
			ms = 1000;
		p[0] = (struct pollfd){ sfd, POLLIN, 0 };
		p[1] = (struct pollfd){ lfd, POLLIN, 0 };
		n += service_pollfds(&svc, p + 2);
		r = service_poll(p, n, ms);
		if (selfpipe_term)
			break;
		if (selfpipe_hup) {
			selfpipe_hup = 0;
			if ((why = settings(&s)))
				warn("warning: SIGHUP: ", why, "; the sessions keep the lifetime read before");
			else
				lifetime = s.lifetime;
		}
		service_serve_pending(&svc, p + 2, r > 0, serve);
		if (r > 0 && p[1].revents)
			service_take(&svc, lfd);
	}
	/* the sessions already started go on without us, each in its own
	 * session: a restart of the service does not cut anyone off */
	if (unlink(sock.s) == -1 && errno != ENOENT)
		warn_sys("warning: unable to remove ", sock.s);
	{
		struct logline l = { STR_INIT };
		log_begin(&l, "stop");
		log_kvu(&l, "running", kids_running());
		log_end(&l);
	}
	service_close_pending(&svc);
	str_free(&sock);
	str_free(&pop3d_path);
	return 0;
}
