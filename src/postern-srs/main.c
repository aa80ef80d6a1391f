/* postern-srs: the SRS key holder (doc/srs.md, "Who holds the key";
 * postern-srs(8)).  It holds the keys of HOME/secret/srs/key and answers
 * two questions about SRS addresses: sign this forwarded copy's sender
 * (F), for postern-send alone; and what does this address stand for (R),
 * for anyone.  So no program that parses mail or the network holds the
 * key: one broken into can at worst have senders signed while it runs
 * (and only postern-send can), never carry the key away, which would
 * relay through this host for as long as the key lasts.
 *
 * usage: postern-srs [-d notification-fd] [-u uid]... [-c uid]...
 *
 * It runs as postern-srs under s6 (never as root: it refuses to), the
 * user that alone may read the key file (0600), listens on
 * HOME/run/srs/socket, and serves (SO_PEERCRED) F and R to postern-send's
 * uid, or to those given with -u instead, and R to every other uid:
 * postern-smtpd on every port, and sendmail -bs run by a local user.
 * (-c names the uids that only reverse, postern-smtpd's and
 * postern-submit's by default: their R are not rationed, a uid on
 * neither list has RATION_PER_S a second, ration.h.)  A uid not of -u
 * may have 16 connections waiting for their request, and all of them
 * together 56 of the 64: the last 8 are postern-send's, so that no crowd
 * of others keeps its forwards waiting.  An R tells nothing that port 25
 * does not tell any stranger (a RCPT to the address is taken or
 * refused), and a local user gets its answers no faster than port 25's
 * limits would give them.  Each connection carries one request and gets one
 * answer (srsask.h); a malformed one, or an F from a uid that may not
 * sign, is closed unanswered and logged as a refusal, a few lines a
 * second at most.
 *
 * The key file is looked at before each answer, and read again when it
 * has changed: postern-srskey's new key signs from the next request on,
 * and after a drop the old keys verify nothing.  SIGHUP reads it again
 * anyway.
 *
 * The set-up ritual, in order: the options, the refusal of root, the
 * process made undumpable (it holds the keys), the uids served, the keys,
 * the signals, the socket, readiness; then the loop, until SIGTERM. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "answer.h"
#include "keys.h"
#include "ration.h"
#include "seconds.h"
#include "conf.h"
#include "die.h"
#include "log.h"
#include "selfpipe.h"
#include "service.h"
#include "str.h"
#include "unixsock.h"

/* Connections that wait to be taken; more wait in connect. */
#define BACKLOG 64

/* Every local user may connect: one looping must not fill the log, so
 * refusals are logged at most a few a second (src/lib/refusal.h).  The
 * request comes right after the connect: 5 seconds is plenty.  A uid not
 * of -u has at most 16 connections waiting (the sessions of a busy port
 * 25 send theirs at once, so their waits are short), so that a few cannot
 * fill the table for postern-smtpd's sessions. */
static struct service svc = {
	.usage = "postern-srs [-d notification-fd] [-u uid]... [-c uid]...",
	.refusal = "refused",
	.checks_option = 1,
	.pending_s = 5,
	.uid_pending_max = 16,
};
static struct keyfile keyfile;
static struct {
	unsigned long long signed_, skipped, reversed, refused, unavailable, rationed;
} counts;

static int finish(int conn)
{
	if (close(conn) == -1)
		warn_sys("warning: unable to close a connection");
	return 1;
}

static int refuse(int conn, uid_t uid, const char *why, const char *sys)
{
	counts.refused++;
	service_refused(&svc, uid, why, sys);
	return finish(conn);
}

/* Signing is rare (a forwarded copy leaving), and a postern-send broken
 * into could ask for senders it has no mail from: each F is logged. */
static void log_sign(uid_t uid, const char *rec, size_t n, int result, const char *ans, size_t an)
{
	struct logline l = { STR_INIT };

	log_begin(&l, result == SRS_OK ? "sign" : result == SRS_UNAVAILABLE ? "unavailable" : "skip");
	log_kvu(&l, "uid", (unsigned long long)uid);
	log_kvb(&l, "from", rec + 1, strnlen(rec + 1, n - 1));
	if (result == SRS_OK)
		log_kvb(&l, "srs", ans + 1, an - 1);
	log_end(&l);
}

/* One connection's request, answered; 1 once it is closed. */
static int serve(int conn, int late)
{
	char rec[SRS_REQUEST_MAX + 1], ans[SRS_ANSWER_MAX]; /* + 1: one byte too long is seen whole */
	struct iovec iov = { rec, sizeof rec };
	struct msghdr m;
	enum srsd_kind kind = SRSD_REVERSE;
	const char *refusal = 0;
	int result = SRS_OK;
	uid_t uid;
	ssize_t r;
	size_t an;

	if (unix_peer_uid(conn, &uid) == -1)
		uid = (uid_t)-1;
	memset(&m, 0, sizeof m);
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	/* no room for ancillary data: descriptors sent along are closed by
	 * the kernel, and MSG_CTRUNC says they came */
	r = recvmsg(conn, &m, MSG_DONTWAIT);
	if (r == -1 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return late ? refuse(conn, uid, "no request in time", 0) : 0;
	if (r == -1)
		return refuse(conn, uid, "unable to read a request", strerror(errno));
	if (r == 0)
		return finish(conn); /* it gave up, its own business */
	if (m.msg_flags & MSG_TRUNC)
		return refuse(conn, uid, "request too long", 0);
	if (m.msg_flags & MSG_CTRUNC)
		return refuse(conn, uid, "request with ancillary data", 0);
	/* a local user's R: rationed (ration.h); the answer says try later */
	if (rec[0] == 'R' && !service_serves_all(&svc, uid) && !service_checks_only(&svc, uid) &&
	    !ration_take(uid, (unsigned long long)monotonic_ms())) {
		static const char z[] = "Ztoo many requests of this uid; try again later";
		counts.rationed++;
		service_refused(&svc, uid, "too many R requests of the uid", 0);
		if (service_answer(conn, z, sizeof z - 1) == -1)
			return refuse(conn, uid, "unable to send the answer", strerror(errno));
		return finish(conn);
	}
	keyfile_look(&keyfile, 0);
	an = srsd_answer(rec, (size_t)r, service_serves_all(&svc, uid), keyfile.usable ? &keyfile.keys : 0,
	                 keyfile.why, srs_day((long long)time(0)), ans, &kind, &result, &refusal);
	if (an == 0)
		return refuse(conn, uid, refusal, 0);
	if (result == SRS_UNAVAILABLE)
		counts.unavailable++;
	else if (kind == SRSD_REVERSE)
		counts.reversed++;
	else if (result == SRS_OK)
		counts.signed_++;
	else
		counts.skipped++;
	if (kind == SRSD_SIGN)
		log_sign(uid, rec, (size_t)r, result, ans, an);
	explicit_bzero(rec, sizeof rec);
	if (service_answer(conn, ans, an) == -1)
		return refuse(conn, uid, "unable to send the answer", strerror(errno));
	return finish(conn);
}

int main(int argc, char **argv)
{
	struct str sock = STR_INIT;
	struct logline l = { STR_INIT };
	int lfd, sfd;

	progname = "postern-srs";
	service_options(&svc, argc, argv);
	/* the keys are in this process: no core file, no ptrace by another
	 * process of postern-srs's */
	service_hold_secrets(&svc, "postern-srs");
	if (!svc.nuids)
		(void)service_serve_user(&svc, conf_users[USER_SEND]);
	if (!svc.nchecks) {
		(void)service_check_user(&svc, conf_users[USER_SMTPD]);
		(void)service_check_user(&svc, conf_users[USER_SUBMIT]);
	}
	/* R for everyone: no uid denied */
	service_serve_all_but(&svc, 0, 0);
	keyfile_look(&keyfile, 1);

	if ((sfd = selfpipe_init(SELFPIPE_HUP)) == -1)
		die_sys(111, "fatal: unable to set up signals");
	lfd = service_listen(&sock, SRS_SOCKET, BACKLOG);
	log_begin(&l, "ready");
	log_kv(&l, "socket", sock.s);
	log_kvu(&l, "signers", svc.nuids);
	log_kvu(&l, "keys", keyfile.usable ? keyfile.keys.n : 0);
	log_end(&l);
	/* s6's readiness: the socket takes connections from now on */
	service_ready(&svc);

	while (service_wait(&svc, sfd, lfd, -1)) {
		if (selfpipe_hup) {
			selfpipe_hup = 0;
			keyfile_look(&keyfile, 1);
		}
		service_serve(&svc, serve);
	}

	service_close_pending(&svc);
	service_unlisten(sock.s);
	log_begin(&l, "stop");
	log_kvu(&l, "signed", counts.signed_);
	log_kvu(&l, "skipped", counts.skipped);
	log_kvu(&l, "reversed", counts.reversed);
	log_kvu(&l, "unavailable", counts.unavailable);
	log_kvu(&l, "refused", counts.refused);
	log_kvu(&l, "rationed", counts.rationed);
	log_end(&l);
	keyfile_wipe(&keyfile);
	str_free(&sock);
	return 0;
}
