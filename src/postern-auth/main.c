/* postern-auth: checks POP3 passwords against HOME/secret/auth/passwd and,
 * for a login, hands the client's connection to postern-pspawn, so that
 * the program that parses the network never sees the password file and
 * the program that reads it never touches a mailbox (doc/pop3.md).
 *
 * usage: postern-auth [-d notification-fd] [-u uid]...
 *
 * It runs as postern-auth under s6 (never as root: it refuses to),
 * listens on HOME/run/auth/socket, and serves only postern-pop3's uid, or
 * those given with -u instead (SO_PEERCRED).  Each connection carries one
 * request: P (log in, with the client's two descriptors) or C (only
 * check), a user, a password and the client's address; the answer is K,
 * N or Z and a reason, and a malformed request gets none, nor does a
 * login whose hand-over to postern-pspawn ended in doubt (no answer in
 * time: postern-pop3d may have the client, so Z would be a lie).
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
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <sodium.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include "auth.h"
#include "conf.h"
#include "die.h"
#include "fmt.h"
#include "home.h"
#include "io.h"
#include "log.h"
#include "selfpipe.h"
#include "str.h"
#include "unixsock.h"

#define USAGE "postern-auth [-d notification-fd] [-u uid]..."
#define UIDS_MAX 8
/* Logins that wait while one is checked: more wait in connect (its own
 * timeout), which costs us nothing. */
#define BACKLOG 64

static uid_t allowed[UIDS_MAX];
static size_t nallowed;

static void allow(uid_t u)
{
	if (nallowed == UIDS_MAX)
		die_usage(USAGE);
	allowed[nallowed++] = u;
}

static int is_allowed(uid_t u)
{
	size_t i;

	for (i = 0; i < nallowed; i++)
		if (allowed[i] == u)
			return 1;
	return 0;
}

static void path(struct str *out, const char *name)
{
	if (!home_path(out, name))
		die_nomem();
}

/* Takes one waiting connection and serves it, or refuses it when its uid
 * is not served. */
static void take(int lfd, const struct serve_paths *paths, struct serve_counts *counts)
{
	int conn = accept4(lfd, 0, 0, SOCK_CLOEXEC | SOCK_NONBLOCK);
	uid_t uid = (uid_t)-1;

	if (conn == -1) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
			warn_sys("warning: accept failed");
		return;
	}
	if (unix_peer_uid(conn, &uid) == -1 || !is_allowed(uid)) {
		counts->refused++;
		log_refused(uid, "uid not served", 0);
		if (close(conn) == -1)
			warn_sys("warning: unable to close a connection");
		return;
	}
	serve(conn, uid, paths, counts);
}

int main(int argc, char **argv)
{
	struct str sock = STR_INIT, passwd = STR_INIT, pspawn = STR_INIT;
	struct serve_counts counts = { 0, 0, 0, 0, 0 };
	struct serve_paths paths;
	struct logline l = { STR_INIT };
	unsigned long long u;
	int lfd, sfd, notify = -1, opt;

	progname = "postern-auth";
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
			allow((uid_t)u);
			break;
		default: die_usage(USAGE);
		}
	}
	if (optind != argc)
		die_usage(USAGE);
	if (geteuid() == 0 || getuid() == 0)
		die(100, "fatal: refusing to run as root: run me as postern-auth (s6-setuidgid)");
	/* passwords pass through this process: no core file, no ptrace by
	 * another process of postern-auth's */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		die_sys(111, "fatal: unable to make myself undumpable");
	if (notify != -1 && fcntl(notify, F_SETFD, FD_CLOEXEC) == -1)
		die_sys(111, "fatal: the notification fd is not open");
	if (sodium_init() < 0)
		die(111, "fatal: unable to initialize libsodium");
	if (!nallowed) {
		struct passwd *pw = getpwnam(conf_users[USER_POP3]);
		if (!pw)
			die(111, "fatal: unknown user ", conf_users[USER_POP3], ": run ./install");
		allow(pw->pw_uid);
	}
	path(&sock, "run/auth/socket");
	path(&passwd, "secret/auth/passwd");
	path(&pspawn, "run/pspawn/socket");
	paths.passwd = passwd.s;
	paths.pspawn = pspawn.s;
	verify_init();

	if ((sfd = selfpipe_init(0)) == -1)
		die_sys(111, "fatal: unable to set up signals");
	lfd = unix_listen(sock.s, BACKLOG);
	if (lfd == -1)
		die_sys(111, "fatal: unable to listen on ", sock.s);
	log_begin(&l, "ready");
	log_kv(&l, "socket", sock.s);
	log_kvu(&l, "uids", nallowed);
	log_end(&l);
	/* s6's readiness: the socket takes connections from now on */
	if (notify != -1 && (write_all(notify, "\n", 1) == -1 || close(notify) == -1))
		die_sys(111, "fatal: unable to write to the notification fd");

	for (;;) {
		struct pollfd p[2] = { { sfd, POLLIN, 0 }, { lfd, POLLIN, 0 } };
		int r = poll(p, 2, -1);

		if (r == -1 && errno != EINTR)
			die_sys(111, "fatal: poll failed");
		if (r > 0 && p[0].revents)
			selfpipe_drain();
		/* after the drain: a SIGTERM caught between a look at the flag
		 * and the drain would lose its byte and leave poll asleep */
		if (selfpipe_term)
			break;
		if (r > 0 && p[1].revents)
			take(lfd, &paths, &counts);
	}

	if (unlink(sock.s) == -1 && errno != ENOENT)
		warn_sys("warning: unable to remove ", sock.s);
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
	return 0;
}
