/* postern-dkim: the DKIM key holder (doc/dkim.md; postern-dkim(8)).  It
 * holds the private keys of HOME/secret/dkim/, read once at start, and
 * signs one 32-byte hash per key and connection for postern-dkimsign, so
 * that no program that reads a message holds a key: a signer broken into
 * by a message it reads can at worst have hashes signed while it runs, as
 * its own user, for the domains it may sign for anyway.
 *
 * usage: postern-dkim [-d notification-fd] [-u uid]...
 *
 * It runs as postern-dkim under s6 (never as root: it refuses to),
 * listens on HOME/run/dkim/socket, and serves (SO_PEERCRED)
 * postern-submit's uid (the submission ports' mail), or those given with
 * -u instead, and, with control/dkimlocal 1 (the default), every uid that
 * is not one of postern's own users (conf-users): the local users whose
 * mail postern-inject queues.  The uid of a postern user that reads mail
 * from the network (postern-smtpd on port 25 above all) is never served:
 * mail from outside must not come out signed.
 *
 * The set-up ritual, in order: the options, the refusal of root, the
 * process made undumpable (it holds keys), libsodium, the uids served,
 * the keys, the signals, the socket, readiness; then the loop, until
 * SIGTERM. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <unistd.h>
#include "holder.h"
#include "conf.h"
#include "control.h"
#include "die.h"
#include "home.h"
#include "log.h"
#include "selfpipe.h"
#include "service.h"
#include "str.h"
#include "unixsock.h"

/* Connections that wait to be taken; more wait in connect. */
#define BACKLOG 64

/* Every local user may be served: one looping must not fill the log, so
 * refusals are logged at most a few a second (src/lib/refusal.h).  A
 * record may take pending_s to come after the one before: the signer
 * sends D, then an S for each key as soon as it has hashed the header. */
static struct service svc = {
	.usage = "postern-dkim [-d notification-fd] [-u uid]...",
	.refusal = "refused",
	.pending_s = 5,
};
/* postern's users but postern-submit: never served as local users */
static uid_t denied[USER_COUNT];

/* control/dkimlocal: 1 (absent too) serves local users as well. */
static int serve_locals(void)
{
	unsigned long long v;

	if (control_num("dkimlocal", &v, 1) == -1 || v > 1)
		die(111, "fatal: control/dkimlocal is not 0 or 1");
	return v == 1;
}

int main(int argc, char **argv)
{
	struct str sock = STR_INIT;
	struct exchange_counts counts = { 0, 0, 0 };
	struct logline l = { STR_INIT };
	size_t nkeys, ndenied = 0;
	int lfd, sfd, locals, u;

	progname = "postern-dkim";
	service_options(&svc, argc, argv);
	if (geteuid() == 0 || getuid() == 0)
		die(100, "fatal: refusing to run as root: run me as postern-dkim (s6-setuidgid)");
	/* the keys are in this process: no core file, no ptrace by another
	 * process of postern-dkim's */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		die_sys(111, "fatal: unable to make myself undumpable");
	if (svc.notify != -1 && fcntl(svc.notify, F_SETFD, FD_CLOEXEC) == -1)
		die_sys(111, "fatal: the notification fd is not open");
	if (sodium_init() < 0)
		die(111, "fatal: unable to initialize libsodium");
	if (!svc.nuids)
		(void)service_serve_user(&svc, conf_users[USER_SUBMIT]);
	/* Each of postern's users is looked up, and one that does not exist
	 * ends the start: otherwise its uid, when it comes to be, would be
	 * served as a local user's. */
	locals = serve_locals();
	if (locals) {
		for (u = 0; u < USER_COUNT; u++)
			if (u != USER_SUBMIT)
				denied[ndenied++] = service_user_uid(conf_users[u]);
		service_serve_all_but(&svc, denied, ndenied);
	}
	nkeys = table_load();
	log_begin(&l, "keys");
	log_kvu(&l, "n", nkeys);
	if (nkeys == 0)
		log_kv(&l, "why", "control/dkimdomains is absent or names none: nothing is signed");
	log_end(&l);
	exchange_init(&svc, &counts);

	if ((sfd = selfpipe_init(0)) == -1)
		die_sys(111, "fatal: unable to set up signals");
	if (!home_path(&sock, "run/dkim/socket"))
		die_nomem();
	lfd = unix_listen(sock.s, BACKLOG);
	if (lfd == -1)
		die_sys(111, "fatal: unable to listen on ", sock.s);
	log_begin(&l, "ready");
	log_kv(&l, "socket", sock.s);
	log_kvu(&l, "uids", svc.nuids);
	log_kvu(&l, "local", (unsigned long long)locals);
	log_end(&l);
	/* s6's readiness: the socket takes connections from now on */
	service_ready(&svc);

	for (;;) {
		struct pollfd p[2 + SERVICE_PENDING_MAX];
		size_t n = 2;
		int r;

		p[0] = (struct pollfd){ sfd, POLLIN, 0 };
		p[1] = (struct pollfd){ lfd, POLLIN, 0 };
		n += service_pollfds(&svc, p + 2);
		r = service_poll(p, n, svc.npending ? 1000 : -1);
		if (selfpipe_term)
			break;
		service_serve_pending(&svc, p + 2, r > 0, exchange);
		if (r > 0 && p[1].revents)
			service_take(&svc, lfd);
	}

	service_close_pending(&svc);
	if (unlink(sock.s) == -1 && errno != ENOENT)
		warn_sys("warning: unable to remove ", sock.s);
	log_begin(&l, "stop");
	log_kvu(&l, "signatures", counts.signatures);
	log_kvu(&l, "none", counts.none);
	log_kvu(&l, "refused", counts.refused);
	log_end(&l);
	table_wipe();
	str_free(&sock);
	return 0;
}
