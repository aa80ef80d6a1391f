/* One postern-queue per message, over the qmail-queue interface: the
 * message on a pipe to its fd 0, the envelope on its fd 1, a socket, on
 * which postern-queue answers with the queue id it committed.  The
 * envelope is written only when the whole message was accepted here; a
 * message refused half-way (too big, bare LF, too many hops, client gone)
 * is abandoned by closing the pipe and the socket without an envelope,
 * which makes postern-queue exit without committing anything. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "smtpd.h"
#include "senders.h"
#include "spawn01.h"
#include "io.h"
#include "home.h"
#include "die.h"
#include "uniq.h"
#include "authres.h"

static pid_t child = -1;
static int msgfd = -1, envfd = -1;
static struct io out;
static char outbuf[65536];
static int failed;
/* The client's Authentication-Results fields naming this host are taken
 * out here, as the message streams, when postern-dkimverify, which takes
 * them out after its checks, is not the one reading it: on submission,
 * for a RELAYCLIENT, with control/dkimverify and control/dmarc 0.  A
 * reader must be able to trust the one field that names this host
 * (RFC 8601 5), and the client's own mail goes to local readers too. */
static struct authres_strip forged;
static int stripping;

/* postern-queue with the message pipe as fd 0 and the envelope socket as
 * fd 1; stderr stays the log.  posix_spawn (musl: a vfork-style clone) copies
 * none of our memory, so neither process pays copy-on-write faults for
 * the buffers we keep writing.  argv is postern-queue's or
 * postern-dkimsign's.  0, or an errno value. */
static int spawn_queue(const char *path, char **argv, int mess, int env)
{
	/* postern-queue reads no variable but the install's location (and a
	 * setuid one not even that): the client's session environment, the
	 * listener's rule variables included, stays on this side, and the
	 * exec copies nothing it does not need. */
	char *envp[2] = { 0, 0 };
	char *const *e;
	sigset_t dflt;
	int r;

	sigemptyset(&dflt);
	sigaddset(&dflt, SIGPIPE);
	for (e = environ; *e; e++)
		if (!strncmp(*e, "POSTERN_HOME=", 13))
			envp[0] = *e;
	r = spawn_01(&child, path, argv, envp, mess, env, &dflt);
	if (r != 0)
		child = -1;
	return r;
}

/* flag and each string of list (NUL-separated) as arguments from
 * argv[*i] on, when argv is not NULL; how many they are either way. */
static size_t flag_args(char **argv, size_t *i, const char *flag, const struct str *list)
{
	size_t off, n = 0;

	for (off = 0; off < list->len; off += strlen(list->s + off) + 1, n += 2)
		if (argv) {
			argv[(*i)++] = (char *)flag;
			argv[(*i)++] = list->s + off;
		}
	return n;
}

/* postern-dkimsign's arguments (control/dkimdomains names a key; only
 * submission sets cfg.dkim): -v, and -d for each domain the login has
 * mail at, the only ones whose From it may sign (doc/dkim.md): a virtual
 * mailbox's domain, or every local domain for a Unix user; and each
 * domain an @domain entry of control/senderlogins gives it; -f for each
 * single address an entry gives it.  NULL-ended, pointing into args and
 * a static list of the addresses. */
static char **dkimsign_argv(const struct str *login, struct str *args)
{
	static struct str addrs;
	const char *at = login->len ? memchr(login->s, '@', login->len) : 0;
	size_t i = 0;
	const char *p;
	char **argv;

	args->len = 0;
	addrs.len = 0;
	if (at) {
		if (!str_catb(args, at + 1, login->len - (size_t)(at + 1 - login->s)) || !str_catz(args))
			die_nomem();
	} else if (login->len) {
		for (p = cfg.locals.s; p && p < cfg.locals.s + cfg.locals.len; p += strlen(p) + 1)
			if (!str_cats(args, p) || !str_catz(args))
				die_nomem();
	}
	if (login->len && cfg.senders && (!senders_domains(login->s, login->len, args) ||
	                                  !senders_addresses(login->s, login->len, &addrs)))
		die_nomem();
	if (!(argv = calloc(2 + flag_args(0, 0, "-d", args) + flag_args(0, 0, "-f", &addrs) + 1, sizeof *argv)))
		die_nomem();
	argv[i++] = (char *)"postern-dkimsign";
	argv[i++] = (char *)"-v";
	(void)flag_args(argv, &i, "-d", args);
	(void)flag_args(argv, &i, "-f", &addrs);
	return argv;
}

/* postern-dkimverify's arguments (doc/dkim.md): -h the name its
 * Authentication-Results field gives, -p control/dmarc's level, and
 * this transaction's SPF check of MAIL FROM when there was one: -s its
 * result, -f the domain (-H the HELO name, for the null sender). */
static void dkimverify_argv(char **argv)
{
	static const char *levels[] = { "0", "1", "2" };
	const char *result, *domain;
	size_t i = 0;
	int helo;

	argv[i++] = (char *)"postern-dkimverify";
	argv[i++] = (char *)"-h";
	argv[i++] = cfg.me.s;
	argv[i++] = (char *)"-p";
	argv[i++] = (char *)levels[cfg.dmarc > 2 ? 2 : cfg.dmarc];
	if (spf_mailfrom(&result, &domain, &helo)) {
		argv[i++] = (char *)"-s";
		argv[i++] = (char *)result;
		argv[i++] = (char *)(helo ? "-H" : "-f");
		argv[i++] = (char *)domain;
	}
	argv[i] = 0;
}

int queue_start(const struct str *login)
{
	static struct str dkimargs;
	char *qargv[2] = { (char *)"postern-queue", 0 };
	/* a stranger's message, checked on its way in (doc/dkim.md) */
	char *vargv[10];
	int verify = (cfg.dkimverify == 1 || cfg.dmarc) && !client.relay && !cfg.dkim;
	char **argv = qargv;
	int m[2], e[2], r;
	struct str path = STR_INIT;

	if (child != -1) {
		/* the session forgot to end the last message: abandon it rather
		 * than lose its process and fds for the rest of the session */
		warn("warning: a postern-queue was still running at a new message; abandoned it");
		queue_abort();
	}
	stripping = !verify;
	authres_strip_init(&forged, cfg.me.s, queue_put);
	if (!home_path(&path, cfg.dkim ? "bin/postern-dkimsign" : verify ? "bin/postern-dkimverify" : "bin/postern-queue"))
		die_nomem();
	if (pipe2(m, O_CLOEXEC) == -1)
		goto fail0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, e) == -1)
		goto fail1;
	if (cfg.dkim)
		argv = dkimsign_argv(login, &dkimargs);
	else if (verify) {
		dkimverify_argv(vargv);
		argv = vargv;
	}
	r = spawn_queue(path.s, argv, m[0], e[0]);
	if (argv != qargv && argv != vargv)
		free(argv);
	if ((errno = r) != 0)
		goto fail2;
	close(m[0]);
	close(e[0]);
	msgfd = m[1];
	envfd = e[1];
	io_init(&out, msgfd, outbuf, sizeof outbuf);
	out.timeout_ms = (int)(cfg.timeout * 1000);
	failed = 0;
	str_free(&path);
	return 0;
fail2:
	close(e[0]);
	close(e[1]);
fail1:
	close(m[0]);
	close(m[1]);
fail0:
	warn_sys("unable to start postern-queue");
	str_free(&path);
	return -1;
}

void queue_put(const char *b, size_t n)
{
	if (failed || msgfd == -1)
		return;
	if (io_put(&out, b, n) == -1)
		failed = errno ? errno : EPIPE;
}

void queue_put_message(const char *b, size_t n)
{
	if (!stripping)
		queue_put(b, n);
	else if (!authres_strip_feed(&forged, b, n))
		die_nomem();
}

void queue_header_end(void)
{
	if (stripping)
		authres_strip_flush(&forged);
}

unsigned long queue_forged_removed(void)
{
	return stripping ? forged.removed : 0;
}

static int reap(void)
{
	int st;
	pid_t r;
	do
		r = waitpid(child, &st, 0);
	while (r == -1 && errno == EINTR);
	child = -1;
	if (r == -1)
		return -1;
	if (WIFSIGNALED(st))
		return -2;
	return WEXITSTATUS(st);
}

void queue_abort(void)
{
	if (child == -1)
		return;
	close(msgfd);
	close(envfd);
	msgfd = envfd = -1;
	(void)reap();
}

/* qmail-queue's exit codes, as qmail-smtpd answers them. */
static const char *answer(int code)
{
	switch (code) {
	case 0: return 0;
	case 11: return "554 5.1.3 envelope address too long for the queue";
	case 31: return "554 5.3.0 the mail server permanently rejected the message";
	/* postern-dkimverify's own, with control/dmarc 2 (doc/dkim.md) */
	case 32: return "550 5.7.1 refused by the DMARC policy of its From domain";
	case 51: return "451 4.3.0 queue: out of memory";
	case 52: return "451 4.3.0 queue: timeout";
	case 53: return "451 4.3.0 queue: write error or disk full";
	case 54: return "451 4.3.0 queue: unable to read the message or envelope";
	case 55: return "451 4.3.0 queue: unable to read a configuration file";
	case 56: return "451 4.3.0 queue: network problem";
	case 61: return "451 4.3.0 queue: problem with the home directory";
	case 62: return "451 4.3.0 queue: problem with the queue directory";
	case 63: return "451 4.3.0 queue: problem with the queue trigger";
	case 64: case 81: return "451 4.3.0 queue: internal bug";
	case 74: return "451 4.3.0 unable to sign the message (DKIM); try again later";
	case 91: return "554 5.6.0 queue: envelope format error";
	case -2: return "451 4.3.0 queue: postern-queue crashed";
	}
	if (code >= 65 && code <= 79)
		return "451 4.3.0 the mail server temporarily rejected the message";
	if (code >= 11 && code <= 40)
		return "554 5.3.0 the mail server permanently rejected the message";
	return "451 4.3.0 queue: temporary failure";
}

/* The id postern-queue sent back after its commit, if it is one. */
static void read_id(struct str *qid)
{
	char b[QID_MAX + 2];
	ssize_t n;
	char *nl;

	qid->len = 0;
	do
		n = recv(envfd, b, sizeof b, MSG_DONTWAIT);
	while (n == -1 && errno == EINTR);
	if (n <= 0 || !(nl = memchr(b, '\n', (size_t)n)) || !qid_valid(b, (size_t)(nl - b)))
		return;
	if (!str_copyb(qid, b, (size_t)(nl - b)))
		die_nomem();
}

const char *queue_finish(const struct str *envelope, struct str *qid)
{
	const char *a;
	int code;

	if (child == -1)
		return "451 4.3.0 queue: not started";
	queue_header_end(); /* a header with no body: its last field */
	if (!failed && io_flush(&out) == -1)
		failed = errno;
	close(msgfd);
	msgfd = -1;
	/* a queue that stopped reading the message will not read the envelope
	 * either; its exit code says why */
	if (!failed && write_all(envfd, envelope->s, envelope->len) == -1)
		failed = errno;
	(void)shutdown(envfd, SHUT_WR); /* its end of file, as a pipe's close gave it */
	code = reap();
	read_id(qid);
	close(envfd);
	envfd = -1;
	a = answer(code);
	if (!a && failed)
		a = "451 4.3.0 queue: write error";
	return a;
}
