/* Bounces: one RFC 3464 report per message, handed to postern-queue like
 * any other mail.  The original's body is never read; only its header
 * section is quoted. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "send.h"
#include "dsn.h"
#include "state.h"
#include "die.h"
#include "file.h"
#include "fmt.h"
#include "home.h"
#include "io.h"
#include "log.h"

static int is_double(const char *s, size_t n) { return n == 4 && memcmp(s, "#@[]", 4) == 0; }

static void read_headers(struct msg *m, struct str *h)
{
	char path[5 + QID_MAX + 1];
	size_t got = 0;
	int fd;

	h->len = 0;
	memcpy(path, "mess/", 5);
	memcpy(path + 5, m->qid, m->qidlen + 1);
	fd = openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1 || !str_ready(h, DSN_HEADERS_MAX)) {
		if (fd != -1)
			close(fd);
		warn_sys("warning: unable to read the headers of ", path);
		return;
	}
	while (got < DSN_HEADERS_MAX) {
		ssize_t r = read_retry(fd, h->s + got, DSN_HEADERS_MAX - got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	h->len = dsn_header_len(h->s, got, DSN_HEADERS_MAX);
}

/* postern-queue, or postern-dkimsign in its place (which signs a From at
 * control/me and execs postern-queue; its 74, the key holder away, and
 * 52, its -t deadline, are failures to try again, signed until sign_it
 * says otherwise): message on fd 0, envelope on fd 1.  The whole
 * scheduler waits here, so the signer is given INJECT_WAIT_S for all of
 * its work (-t: a key holder that accepts and never answers must not
 * hold every delivery), and stops itself; what it execs, postern-queue,
 * is waited for as it always was.  0 ok, else its exit code, or -1 if it
 * could not be run or did not exit. */
static int inject(const struct str *msg, const struct str *env, int sign)
{
	static struct str queue = STR_INIT, signer = STR_INIT;
	const char *prog;
	int mp[2], ep[2], status;
	pid_t pid;

	if (!queue.len && (!home_path(&queue, "bin/postern-queue") || !home_path(&signer, "bin/postern-dkimsign")))
		die_nomem();
	prog = sign ? signer.s : queue.s;
	if (pipe2(mp, O_CLOEXEC) == -1) {
		warn_sys("warning: unable to create a pipe");
		return -1;
	}
	if (pipe2(ep, O_CLOEXEC) == -1) {
		warn_sys("warning: unable to create a pipe");
		close(mp[0]);
		close(mp[1]);
		return -1;
	}
	log_flush(); /* the child must not inherit held lines and write them again */
	pid = fork();
	if (pid == -1) {
		warn_sys("warning: unable to fork");
		close(mp[0]); close(mp[1]); close(ep[0]); close(ep[1]);
		return -1;
	}
	if (pid == 0) {
		char *qargv[] = { (char *)"postern-queue", 0 };
		char *sargv[] = { (char *)"postern-dkimsign", (char *)"-t", (char *)INJECT_WAIT, (char *)"-d", set.me.s, 0 };
		if (dup2(mp[0], 0) == -1 || dup2(ep[0], 1) == -1)
			die_sys(111, "fatal: unable to set up postern-queue's fds");
		if (signal(SIGPIPE, SIG_DFL) == SIG_ERR)
			die_sys(111, "fatal: unable to reset SIGPIPE for postern-queue");
		execv(prog, sign ? sargv : qargv);
		die_sys(111, "fatal: unable to run ", prog);
	}
	close(mp[0]);
	close(ep[0]);
	/* postern-queue reads the whole message before the envelope, so this
	 * order cannot deadlock; a queue that dies early gives EPIPE here. */
	if (write_all(mp[1], msg->s, msg->len) == 0) {
		close(mp[1]);
		(void)write_all(ep[1], env->s, env->len);
	} else
		close(mp[1]);
	close(ep[1]);
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			return -1;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		char code[FMT_ULONG + 1];
		code[fmt_ulong(code, WIFEXITED(status) ? (unsigned long long)WEXITSTATUS(status) : 999)] = 0;
		warn("warning: ", sign ? "postern-dkimsign" : "postern-queue", " refused a bounce, exit ", code);
		return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	}
	return 0;
}

/* Signed while control/dkimdomains names a key, unless signing has
 * failed for control/retrymax seconds, or an hour if that is less: a
 * bounce late by more than that does its sender less good than one
 * without a signature. */
static int sign_it(const struct msg *m)
{
	unsigned long long giveup = set.retrymax < SIGN_GIVEUP_S ? set.retrymax : SIGN_GIVEUP_S;

	return set.dkim && !(m->sign_failing && now >= m->sign_failing + giveup);
}

/* After a try with the signer: a success ends a run of signing failures;
 * only the signer's own failures (74, 52) count towards giving up, not
 * postern-queue's. */
static void sign_result(struct msg *m, int sign, int code)
{
	if (!sign)
		return;
	if (code == 0)
		m->sign_failing = 0;
	else if ((code == 74 || code == 52) && !m->sign_failing)
		m->sign_failing = now;
}

/* postern-queue's permanent refusals (doc/queue.md): address too long,
 * refused, envelope format error.  Anything else may pass. */
static int refused_for_good(int code) { return code == 11 || code == 31 || code == 91; }

int bounce(struct msg *m)
{
	struct str line = STR_INIT, hdr = STR_INIT, out = STR_INIT, env = STR_INIT;
	struct dsn_fail *f;
	struct dsn d;
	struct logline l = { STR_INIT };
	const char *to = m->env.sender, *esender = "";
	size_t tolen = m->env.sender_len, i, nf = 0;
	int ok = 0, sign, code;

	if (is_double(m->env.sender, m->env.sender_len)) {
		/* a bounce to the postmaster failed: nobody is left to tell */
		log_begin(&l, "bounce");
		log_kvb(&l, "qid", m->qid, m->qidlen);
		log_kv(&l, "status", "dropped");
		log_kv(&l, "reason", "double bounce");
		log_end(&l);
		goto recorded;
	}
	if (tolen == 0) {
		to = set.doublebounceto.s;
		tolen = set.doublebounceto.len;
		esender = "#@[]";
	}
	f = calloc(m->env.nrcpt, sizeof *f);
	if (!f)
		die_nomem();
	for (i = 0; i < m->env.nrcpt; i++) {
		const struct rcpt *r = m->r + i;
		size_t pl = sizeof EXPIRED_PREFIX - 1;
		if (r->st != RS_FAILED)
			continue;
		f[nf].addr = m->env.rcpt[i];
		f[nf].len = m->env.rcpt_len[i];
		f[nf].why = r->why.s ? r->why.s : "";
		f[nf].why_len = r->why.len;
		f[nf].expired = r->why.len >= pl && memcmp(r->why.s, EXPIRED_PREFIX, pl) == 0;
		nf++;
	}
	read_headers(m, &hdr);
	d.me = set.me.s;
	d.qid = m->qid;
	d.arrival = m->arrival;
	d.now = now;
	d.to = to;
	d.to_len = tolen;
	d.f = f;
	d.nf = nf;
	d.headers = hdr.s ? hdr.s : "";
	d.hlen = hdr.len;
	d.delayed = 0;
	if (!dsn_build(&out, &d) || !str_catc(&env, 'F') || !str_cats(&env, esender) ||
	    !str_catz(&env) || !str_catc(&env, 'T') || !str_catb(&env, to, tolen) || !str_catz(&env) ||
	    !str_catz(&env))
		die_nomem();
	free(f);
	str_free(&hdr);
	sign = sign_it(m);
	code = inject(&out, &env, sign);
	sign_result(m, sign, code);
	if (code != 0) {
		warn("warning: unable to queue the bounce for ", m->qid, ", trying again later");
		goto out;
	}
	log_begin(&l, "bounce");
	log_kvb(&l, "qid", m->qid, m->qidlen);
	log_kvb(&l, "to", to, tolen);
	log_kvu(&l, "nfailed", nf);
	if (set.dkim && !sign)
		log_kv(&l, "signed", "no");
	/* qmail-queue's interface does not say the new message's id; its
	 * Message-ID ties the two log lines together */
	{
		struct str id = STR_INIT;
		if (!str_catb(&id, m->qid, m->qidlen) || !str_cats(&id, ".dsn@") || !str_cat(&id, &set.me))
			die_nomem();
		log_kvb(&l, "bounce_msgid", id.s, id.len);
		str_free(&id);
	}
	log_end(&l);
recorded:
	if (!state_line_B(&line))
		die_nomem();
	record(m, &line);
	m->bounced = 1;
	ok = 1;
out:
	str_free(&line);
	str_free(&out);
	str_free(&env);
	return ok;
}

/* The delay warning (control/bouncewarn): once per message, to the
 * sender, listing the recipients still being retried with their last
 * error.  Never to the null sender or the double-bounce marker. */
int bounce_warn(struct msg *m)
{
	/* after a failure that may pass, no warning is built before this:
	 * not one for each result of each message meanwhile */
	static unsigned long long not_before;
	struct str line = STR_INIT, hdr = STR_INIT, out = STR_INIT, env = STR_INIT;
	struct dsn_fail *f;
	struct dsn d;
	struct logline l = { STR_INIT };
	size_t i, nf = 0;
	int ok = 0, code, sign;

	if (now < not_before)
		return 0;
	if (m->env.sender_len == 0 || is_double(m->env.sender, m->env.sender_len))
		goto recorded;
	f = calloc(m->env.nrcpt, sizeof *f);
	if (!f)
		die_nomem();
	for (i = 0; i < m->env.nrcpt; i++) {
		const struct rcpt *r = m->r + i;
		if (r->st != RS_PENDING)
			continue;
		f[nf].addr = m->env.rcpt[i];
		f[nf].len = m->env.rcpt_len[i];
		f[nf].why = r->why.s ? r->why.s : "";
		f[nf].why_len = r->why.len;
		f[nf].expired = 0;
		nf++;
	}
	read_headers(m, &hdr);
	memset(&d, 0, sizeof d);
	d.me = set.me.s;
	d.qid = m->qid;
	d.arrival = m->arrival;
	d.now = now;
	d.to = m->env.sender;
	d.to_len = m->env.sender_len;
	d.f = f;
	d.nf = nf;
	d.headers = hdr.s ? hdr.s : "";
	d.hlen = hdr.len;
	d.delayed = 1;
	if (!dsn_build(&out, &d) || !str_cats(&env, "F") || !str_catz(&env) || !str_catc(&env, 'T') ||
	    !str_catb(&env, m->env.sender, m->env.sender_len) || !str_catz(&env) || !str_catz(&env))
		die_nomem();
	free(f);
	str_free(&hdr);
	sign = sign_it(m);
	code = inject(&out, &env, sign);
	sign_result(m, sign, code);
	if (code != 0 && !refused_for_good(code)) {
		warn("warning: unable to queue the delay warning for ", m->qid);
		not_before = now + set.retrymin;
		goto out; /* tried again at a deferral after that */
	}
	log_begin(&l, "warning");
	log_kvb(&l, "qid", m->qid, m->qidlen);
	log_kvb(&l, "to", m->env.sender, m->env.sender_len);
	log_kvu(&l, "ndelayed", nf);
	if (code != 0) /* it would be refused again: a warning is not worth that */
		log_kv(&l, "status", "refused");
	log_end(&l);
recorded:
	if (!state_line_W(&line))
		die_nomem();
	record(m, &line);
	m->warned = 1;
	ok = 1;
out:
	str_free(&line);
	str_free(&out);
	str_free(&env);
	return ok;
}
