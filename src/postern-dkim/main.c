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
 * postern-submit's uid (the submission ports' mail) and postern-send's
 * (its bounces and delay warnings, for control/me's domain alone), or
 * those given with -u instead, and, only with control/dkimlocal 1 (the
 * default is 0),
 * every uid that is not one of postern's own users (conf-users): the
 * local users whose mail postern-inject queues.  The uid of a postern user
 * that reads mail from the network (postern-smtpd on port 25 above all)
 * is never served: mail from outside must not come out signed.  Local
 * users are not served by default, for a local user's mail may be an
 * outsider's: a program delivery (a .postern line) that forwards with
 * sendmail runs as the user, and the mail it reinjects would leave signed
 * as whichever hosted domain its From names; and any local user could
 * have any hash signed as every domain with keys.
 *
 * The set-up ritual, in order: the options, the refusal of root, the
 * process made undumpable (it holds keys), libsodium, the uids served,
 * the keys, the signals, the socket, readiness; then the loop, until
 * SIGTERM or SIGHUP.  SIGHUP ends it as SIGTERM does (s6-svc -h): the
 * keys are read once, at start, and s6 starts it again, which rereads
 * them; so s6-svc -h and -r both reload. */
#include "holder.h"
#include "addr.h"
#include "conf.h"
#include "control.h"
#include "die.h"
#include "log.h"
#include "selfpipe.h"
#include "service.h"
#include "str.h"
#include <unistd.h>

/* Connections that wait to be taken; more wait in connect. */
#define BACKLOG 64

/* Every local user may connect, served or not: one looping must not fill
 * the log, so refusals are logged at most a few a second
 * (src/lib/refusal.h).  A record may take pending_s to come after the one
 * before: postern-dkimsign hashes the message before it connects, so each
 * record follows the last at once.  A uid served as a local user may have
 * at most uid_pending_max connections under way, so that one cannot fill
 * the 64 of the table and keep postern-submit's signers waiting; the uids
 * of -u (postern-submit's) have no limit. */
static struct service svc = {
	.usage = "postern-dkim [-d notification-fd] [-u uid]...",
	.refusal = "refused",
	.pending_s = 5,
	.uid_pending_max = 8,
};
/* postern's users but postern-submit: never served as local users */
static uid_t denied[USER_COUNT];

/* control/dkimlocal: 1 serves local users as well; 0 (absent too) does
 * not (the head comment says why). */
static int serve_locals(void)
{
	unsigned long long v;

	if (control_num("dkimlocal", &v, 0) == -1 || v > 1)
		die(111, "fatal: control/dkimlocal is not 0 or 1");
	return v == 1;
}

/* postern-send's bounces and delay warnings (From MAILER-DAEMON@me) are
 * signed too, and for control/me's domain alone (exchange_limit). */
static void serve_bounces(void)
{
	struct str me = STR_INIT;
	char host[256];
	int r = control_line("me", &me);

	if (r < 0)
		die_sys(111, "fatal: unable to read control/me");
	if (r == 0) {
		if (gethostname(host, sizeof host - 1) == -1)
			die_sys(111, "fatal: unable to find the host name");
		host[sizeof host - 1] = 0;
		if (!str_copys(&me, host))
			die_nomem();
	}
	lowercase(me.s, me.len);
	while (me.len && me.s[me.len - 1] == '.') /* postern-dkimsign's D has none */
		me.len--;
	exchange_limit(service_serve_user(&svc, conf_users[USER_SEND]), me.s, me.len);
	str_free(&me);
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
	/* the keys are in this process: no core file, no ptrace by another
	 * process of postern-dkim's */
	service_hold_secrets(&svc, "postern-dkim");
	if (sodium_init() < 0)
		die(111, "fatal: unable to initialize libsodium");
	if (!svc.nuids) {
		(void)service_serve_user(&svc, conf_users[USER_SUBMIT]);
		serve_bounces();
	}
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

	if ((sfd = selfpipe_init(SELFPIPE_HUP)) == -1)
		die_sys(111, "fatal: unable to set up signals");
	lfd = service_listen(&sock, "run/dkim/socket", BACKLOG);
	log_begin(&l, "ready");
	log_kv(&l, "socket", sock.s);
	log_kvu(&l, "uids", svc.nuids);
	log_kvu(&l, "local", (unsigned long long)locals);
	log_end(&l);
	/* s6's readiness: the socket takes connections from now on */
	service_ready(&svc);

	while (service_wait(&svc, sfd, lfd, -1) && !selfpipe_hup)
		service_serve(&svc, exchange);

	service_close_pending(&svc);
	service_unlisten(sock.s);
	log_begin(&l, "stop");
	log_kvu(&l, "signatures", counts.signatures);
	log_kvu(&l, "none", counts.none);
	log_kvu(&l, "refused", counts.refused);
	log_end(&l);
	table_wipe();
	str_free(&sock);
	return 0;
}
