/* postern-tlsd: starts a TLS engine (postern-tlsio) for each connection whose
 * application asks for one, so that no program that speaks SMTP has a TLS
 * stack, and only sessions that use TLS pay for one (doc/tls.md).
 *
 * usage: postern-tlsd [-d notification-fd] [-u uid]...
 *
 * It runs as postern-tls under s6, listens on HOME/run/tlsd/socket, and
 * serves only postern-smtpd, postern-submit (submission's postern-smtpd
 * -a), postern-pop3 and postern-remote (their uids, or those given with
 * -u, from SO_PEERCRED).  Each request is one record: S (be the TLS
 * server) or, from postern-remote alone, C with a policy, the server's
 * name and, for policy d (DANE), its TLSA records (be the client), and
 * five descriptors; the answer is K when an
 * engine was started, Z and a reason when not.  At most control/concurrencytls engines run at once (default
 * 200).  It reads nothing from the network and holds no key.
 * postern-tlsd(8). */
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "tlsd.h"
#include "conf.h"
#include "control.h"
#include "die.h"
#include "home.h"
#include "log.h"
#include "selfpipe.h"
#include "service.h"
#include "str.h"
#include "unixsock.h"

/* The socket is every local user's to connect to: one looping connect
 * and close must not fill the log.  Refusals of a uid we do not serve
 * are logged at most a few a second (src/lib/refusal.h); those of a uid
 * we serve (busy, a malformed request) always: they are what an admin
 * looks for.  A request may take pending_s to come. */
static struct service svc = {
	.usage = "postern-tlsd [-d notification-fd] [-u uid]...",
	.refusal = "refused",
	.served_logged = 1,
	.pending_s = 10,
};
/* Client mode is outbound TLS, postern-remote's alone: a postern-smtpd
 * taken over from the network has no use for TLS connections it starts
 * itself.  Tests give their own uids with -u, and any of them may ask. */
static uid_t client_uid;
static int client_any;
static unsigned long long running, limit;
static struct str engine_path = STR_INIT;

static void answer(int conn, const char *rec)
{
	(void)service_answer(conn, rec, strlen(rec));
}

/* Serves a pending connection: 1 when it is done with (and closed), 0
 * when its record has not come yet. */
static int serve(int conn, int timed_out)
{
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
		service_refused(&svc, uid, why, 0);
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

/* SIGHUP (s6-svc -h): control/concurrencytls read again; the engines
 * running go on, and a lower limit only stops new ones.  A bad value
 * keeps the old limit, with a warning: the service stays up.  (Until
 * 2026-12-01 SIGHUP ended postern-tlsd, as an unhandled signal does.) */
static void reread_limit(void)
{
	unsigned long long fresh;
	struct logline l = { STR_INIT };

	if (control_num("concurrencytls", &fresh, 200) == -1 || fresh == 0) {
		warn("warning: control/concurrencytls is not a number of at least 1: keeping ", "the old limit");
		return;
	}
	limit = fresh;
	log_begin(&l, "reload");
	log_kvu(&l, "concurrencytls", limit);
	log_end(&l);
}

int main(int argc, char **argv)
{
	struct str sock = STR_INIT;
	int lfd, sfd;

	progname = "postern-tlsd";
	service_options(&svc, argc, argv);
	client_any = svc.nuids != 0;
	if (geteuid() == 0)
		die(100, "fatal: refusing to run as root: run me as postern-tls (s6-setuidgid)");
	if (!svc.nuids) {
		(void)service_serve_user(&svc, conf_users[USER_SMTPD]);
		(void)service_serve_user(&svc, conf_users[USER_SUBMIT]);
		(void)service_serve_user(&svc, conf_users[USER_POP3]);
		client_uid = service_serve_user(&svc, conf_users[USER_REMOTE]);
	}
	if (control_num("concurrencytls", &limit, 200) == -1 || limit == 0)
		die(111, "fatal: control/concurrencytls is not a number of at least 1");
	if (!home_path(&engine_path, "bin/postern-tlsio"))
		die_nomem();
	if ((sfd = selfpipe_init(SELFPIPE_CHLD | SELFPIPE_HUP)) == -1)
		die_sys(111, "fatal: unable to set up signals");
	lfd = service_listen(&sock, "run/tlsd/socket", 64);
	{
		struct logline l = { STR_INIT };
		log_begin(&l, "ready");
		log_kv(&l, "socket", sock.s);
		log_kvu(&l, "concurrencytls", limit);
		log_end(&l);
	}
	service_ready(&svc);

	/* the ended engines are reaped before any request is served: one
	 * that ended just now no longer counts against the limit */
	while (service_wait(&svc, sfd, lfd, -1)) {
		reap();
		if (selfpipe_hup) {
			selfpipe_hup = 0;
			reread_limit();
		}
		service_serve(&svc, serve);
	}
	/* engines already started finish their sessions on their own */
	service_unlisten(sock.s);
	str_free(&sock);
	str_free(&engine_path);
	return 0;
}
