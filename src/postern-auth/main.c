/* postern-auth: checks passwords against HOME/secret/auth/passwd, for
 * POP3 and for SMTP AUTH, and, for a POP3 login, hands the client's
 * connection to postern-pspawn, so that the programs that parse the
 * network never see the password file and the program that reads it
 * never touches a mailbox (doc/pop3.md).
 *
 * usage: postern-auth [-d notification-fd] [-u uid]... [-c uid]...
 *
 * It runs as postern-auth under s6 (never as root: it refuses to),
 * listens on HOME/run/auth/socket, and serves (SO_PEERCRED) postern-pop3's
 * uid for every request and postern-submit's (the submission ports'
 * postern-smtpd -a) for checks only, or those given with -u (every
 * request) and -c (checks only) instead; port 25's postern-smtpd gets
 * nothing.  Each connection carries one request: P (log in, with the
 * client's two descriptors) or C (only check), a user, a password and the
 * client's address; the answer is K, N or Z and a reason, and a malformed
 * request gets none, nor does a login whose hand-over to postern-pspawn
 * ended in doubt (no answer in time: postern-pop3d may have the client,
 * so Z would be a lie).  A P from a check-only uid is refused unanswered: a
 * submission session taken over from the network must not be able to
 * start a POP3 session, nor hand a connection to postern-pspawn through
 * us.
 *
 * It answers one request at a time, on purpose: an argon2id verification
 * takes 64 MB and tens of milliseconds, so a flood of guesses costs one
 * CPU and 64 MB at most, and waits in the socket's backlog.  Every wait
 * for a peer is bounded, so that none can hold up the others for long.
 *
 * The set-up ritual, in order: the options, the refusal of root, the
 * process made undumpable (it holds passwords), libsodium, the uids
 * served, the dummy hash, the signals, the socket, readiness; then the
 * loop, until SIGTERM.  postern-auth(8). */
#include <poll.h>
#include <sodium.h>
#include "auth.h"
#include "conf.h"
#include "control.h"
#include "die.h"
#include "home.h"
#include "log.h"
#include "seconds.h"
#include "selfpipe.h"
#include "service.h"
#include "str.h"

/* Logins that wait while one is checked: more wait in connect (its own
 * timeout), which costs us nothing. */
#define BACKLOG 64

static void path(struct str *out, const char *name)
{
	if (!home_path(out, name))
		die_nomem();
}

/* SIGHUP: control/authfailures again; a file that cannot be read leaves
 * the limit as it was, with a warning, rather than end the service. */
static void reread_failures(unsigned long long *failures)
{
	struct logline l = { STR_INIT };
	unsigned long long v;

	if (control_num("authfailures", &v, 10) == -1) {
		warn_sys("warning: SIGHUP: unable to read control/authfailures; the limit stays as it was");
		return;
	}
	*failures = v;
	throttle_init(v);
	log_begin(&l, "reread");
	log_kvu(&l, "authfailures", v);
	log_end(&l);
}

/* The throttle's counts from the last clean stop, so that a restart
 * (an upgrade, s6-svc -r) does not give a guesser a fresh allowance. */
static void load_counts(const char *file)
{
	struct logline l = { STR_INIT };
	struct throttle_loaded got;

	throttle_load(file, seconds_now(), &got);
	if (got.problem)
		warn("warning: ", file, ": ", got.problem, "; the throttle starts without the saved counts");
	if (!got.kept && !got.skipped)
		return;
	log_begin(&l, "throttle");
	log_kvu(&l, "loaded", got.kept);
	log_kvu(&l, "skipped", got.skipped);
	log_end(&l);
}

static void save_counts(const char *file, const char *tmp)
{
	struct logline l = { STR_INIT };
	size_t saved;

	if (throttle_save(file, tmp, seconds_now(), &saved) == -1) {
		warn_sys("warning: unable to save the throttle's counts to ", file);
		return;
	}
	if (!saved)
		return;
	log_begin(&l, "throttle");
	log_kvu(&l, "saved", saved);
	log_end(&l);
}

int main(int argc, char **argv)
{
	struct service svc = {
		.usage = "postern-auth [-d notification-fd] [-u uid]... [-c uid]...",
		.refusal = "refused",
		.checks_option = 1,
	};
	struct str sock = STR_INIT, passwd = STR_INIT, pspawn = STR_INIT, state = STR_INIT, statetmp = STR_INIT;
	struct serve_counts counts = { 0, 0, 0, 0, 0 };
	struct serve_paths paths;
	struct logline l = { STR_INIT };
	unsigned long long failures;
	int lfd, sfd;

	progname = "postern-auth";
	service_options(&svc, argc, argv);
	/* passwords pass through this process: no core file, no ptrace by
	 * another process of postern-auth's */
	service_hold_secrets(&svc, "postern-auth");
	if (sodium_init() < 0)
		die(111, "fatal: unable to initialize libsodium");
	/* submission's SMTP AUTH only ever checks: nothing is started for
	 * it, so it gets no more than that.  It runs as a user of its own,
	 * postern-submit, so that port 25's postern-smtpd, the most exposed
	 * process, cannot ask us anything, not even a check without the
	 * pause and the failure limit of a submission session. */
	if (!svc.nuids && !svc.nchecks) {
		(void)service_serve_user(&svc, conf_users[USER_POP3]);
		(void)service_check_user(&svc, conf_users[USER_SUBMIT]);
	}
	path(&passwd, "secret/auth/passwd");
	path(&pspawn, "run/pspawn/socket");
	paths.passwd = passwd.s;
	paths.pspawn = pspawn.s;
	verify_init();
	/* read at start and at SIGHUP (s6-svc -h), which keeps the counts */
	if (control_num("authfailures", &failures, 10) == -1)
		die_sys(111, "fatal: unable to read control/authfailures");
	throttle_init(failures);
	path(&state, "run/auth/throttle");
	path(&statetmp, "run/auth/throttle.tmp");
	load_counts(state.s);

	if ((sfd = selfpipe_init(SELFPIPE_HUP)) == -1)
		die_sys(111, "fatal: unable to set up signals");
	lfd = service_listen(&sock, "run/auth/socket", BACKLOG);
	log_begin(&l, "ready");
	log_kv(&l, "socket", sock.s);
	log_kvu(&l, "uids", svc.nuids);
	log_kvu(&l, "check_uids", svc.nchecks);
	log_kvu(&l, "authfailures", failures);
	log_end(&l);
	/* s6's readiness: the socket takes connections from now on */
	service_ready(&svc);

	for (;;) {
		struct pollfd p[2] = { { sfd, POLLIN, 0 }, { lfd, POLLIN, 0 } };
		int r = service_poll(p, 2, -1);

		if (selfpipe_term)
			break;
		if (selfpipe_hup) {
			selfpipe_hup = 0;
			reread_failures(&failures);
		}
		/* one connection at a time, served before the next is taken; an
		 * unserved uid's is closed unread */
		if (r > 0 && p[1].revents) {
			uid_t uid;
			int conn = service_accept(&svc, lfd, &uid);
			if (conn == -2)
				counts.refused++;
			else if (conn >= 0)
				serve(conn, uid, service_checks_only(&svc, uid), &paths, &counts);
		}
	}

	service_unlisten(sock.s);
	save_counts(state.s, statetmp.s);
	log_begin(&l, "stop");
	log_kvu(&l, "ok", counts.ok);
	log_kvu(&l, "fail", counts.fail);
	log_kvu(&l, "tempfail", counts.tempfail);
	log_kvu(&l, "unknown", counts.unknown);
	log_kvu(&l, "refused", counts.refused);
	log_end(&l);
	pwfile_free();
	str_free(&sock);
	str_free(&passwd);
	str_free(&pspawn);
	str_free(&state);
	str_free(&statetmp);
	return 0;
}
