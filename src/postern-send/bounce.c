/* Reports: one RFC 3464 report per message, handed to postern-queue like
 * any other mail, on its failures and on the successes the sender asked
 * to hear of (doc/dsn.md); and the delay warning.  The original's body
 * is never parsed: its header section is quoted, or with RET=FULL the
 * whole message returned as it is. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "send.h"
#include "dsn.h"
#include "infostate.h"
#include "die.h"
#include "file.h"
#include "fmt.h"
#include "home.h"
#include "io.h"
#include "log.h"
#include "esmtpdsn.h"

static int is_double(const char *s, size_t n) { return n == 4 && memcmp(s, "#@[]", 4) == 0; }

/* What a report returns of m: the header section, or with full (RET=FULL)
 * the whole message if it is at most DSN_FULL_MAX bytes, into h; d's
 * headers, hlen, full and too_large say which. */
static void read_original(struct msg *m, int full, struct str *h, struct dsn *d)
{
	char path[5 + QID_MAX + 1];
	size_t got = 0, max = full ? DSN_FULL_MAX + 1 : DSN_HEADERS_MAX;
	ssize_t r = 0;
	int fd;

	h->len = 0;
	memcpy(path, "mess/", 5);
	memcpy(path + 5, m->qid, m->qidlen + 1);
	fd = openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1 || !str_ready(h, max)) {
		if (fd != -1)
			close(fd);
		warn_sys("warning: unable to read ", path);
		r = -1;
	} else {
		while (got < max && (r = read_retry(fd, h->s + got, max - got)) > 0)
			got += (size_t)r;
		if (r == -1)
			warn_sys("warning: unable to read ", path);
		close(fd);
	}
	/* whole only if read to its end: a read error returns the headers
	 * (and a report that says nothing of the size) */
	d->full = full && r == 0 && got <= DSN_FULL_MAX;
	d->too_large = full && got > DSN_FULL_MAX;
	h->len = d->full ? got : dsn_header_len(h->s ? h->s : "", got, DSN_HEADERS_MAX);
	d->headers = h->s ? h->s : "";
	d->hlen = h->len;
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

static int null_or_double(const struct msg *m)
{
	return m->env.sender_len == 0 || is_double(m->env.sender, m->env.sender_len);
}

/* Whether recipient i's success is reported, and as what (*action): if
 * its NOTIFY asks, to a sender that can be told, and it was delivered
 * here (K: a recipient with DSN parameters that went elsewhere is H, R
 * or X), relayed to a server without DSN (R), or sent on here to several
 * destinations, whose copies do not ask for SUCCESS (X, "expanded").
 * One handed on with its request (H: to a server that speaks DSN, or
 * forwarded here to one address) is reported on by whoever delivers it. */
static int success_reported(const struct msg *m, size_t i, int *action)
{
	const struct rcpt *r = m->r + i;

	if (null_or_double(m) || !(envelope_notify(&m->env, i) & DSN_NOTIFY_SUCCESS))
		return 0;
	if (r->st == RS_RELAYED)
		*action = DSN_RELAYED;
	else if (r->st == RS_EXPANDED)
		*action = DSN_EXPANDED;
	else if (r->st == RS_DONE)
		*action = DSN_DELIVERED;
	else
		return 0;
	return 1;
}

int bounce_successes(const struct msg *m)
{
	size_t i;
	int action;

	for (i = 0; i < m->env.nrcpt; i++)
		if (success_reported(m, i, &action))
			return 1;
	return 0;
}

static void entry(struct dsn_rcpt *e, const struct msg *m, size_t i, int action)
{
	const struct rcpt *r = m->r + i;
	size_t pl = sizeof EXPIRED_PREFIX - 1;

	e->addr = m->env.rcpt[i];
	e->len = m->env.rcpt_len[i];
	e->why = r->why.s ? r->why.s : "";
	e->why_len = r->why.len;
	e->expired = r->st == RS_FAILED && r->why.len >= pl && memcmp(r->why.s, EXPIRED_PREFIX, pl) == 0;
	e->action = action;
	e->orcpt_len = envelope_orcpt(&m->env, i, &e->orcpt);
}

/* Whether a report on m lists recipient i in its pass (0 the failures,
 * or for a warning the pending; 1 the successes), as its NOTIFY asks,
 * and as what (*action). */
static int listed(const struct msg *m, size_t i, int pass, int delayed, int *action)
{
	const struct rcpt *r = m->r + i;
	unsigned want = delayed ? DSN_NOTIFY_DELAY : DSN_NOTIFY_FAILURE;

	if (pass == 1)
		return !delayed && success_reported(m, i, action);
	*action = DSN_FAILED;
	return r->st == (delayed ? RS_PENDING : RS_FAILED) && (envelope_notify(&m->env, i) & want);
}

/* The recipients a report on m lists, in a new array: for a warning the
 * pending ones; for a bounce the failed ones, then the successes (so
 * that the failures are listed when not all fit).  n[action] counts
 * them. */
static struct dsn_rcpt *collect(const struct msg *m, int delayed, size_t *nr, size_t n[DSN_ACTIONS])
{
	struct dsn_rcpt *e = calloc(m->env.nrcpt ? m->env.nrcpt : 1, sizeof *e);
	size_t i;
	int pass, action;

	if (!e)
		die_nomem();
	*nr = 0;
	for (i = 0; i < DSN_ACTIONS; i++)
		n[i] = 0;
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < m->env.nrcpt; i++)
			if (listed(m, i, pass, delayed, &action)) {
				entry(e + (*nr)++, m, i, action);
				n[action]++;
			}
	return e;
}

/* Builds the report d on m and hands it to postern-queue, from esender;
 * *sign says whether it went through the signer.  inject's code. */
static int send_report(struct msg *m, const struct dsn *d, const char *esender, int *sign)
{
	struct str out = STR_INIT, env = STR_INIT;
	int code;

	if (!dsn_build(&out, d) || !str_catc(&env, 'F') || !str_cats(&env, esender) ||
	    !str_catz(&env) || !str_catc(&env, 'T') || !str_catb(&env, d->to, d->to_len) || !str_catz(&env) ||
	    !str_catz(&env))
		die_nomem();
	*sign = sign_it(m);
	code = inject(&out, &env, *sign);
	sign_result(m, *sign, code);
	str_free(&out);
	str_free(&env);
	return code;
}

/* What every report on m holds but its recipients and what it returns. */
static void report_init(struct dsn *d, const struct msg *m, const char *to, size_t tolen, int delayed)
{
	memset(d, 0, sizeof *d);
	d->me = set.me.s;
	d->qid = m->qid;
	d->arrival = m->arrival;
	d->now = now;
	d->to = to;
	d->to_len = tolen;
	d->envid = m->env.envid;
	d->envid_len = m->env.envid_len;
	d->delayed = delayed;
}

/* The report's record in info/QID, B or W: it is queued, or not to be. */
static void report_recorded(struct msg *m, int warning)
{
	struct str line = STR_INIT;

	if (!(warning ? state_line_W(&line) : state_line_B(&line)))
		die_nomem();
	record(m, &line);
	str_free(&line);
	if (warning)
		m->warned = 1;
	else
		m->bounced = 1;
}

/* No recipient's NOTIFY asks for the report: said in the log (the caller
 * records it as sent all the same). */
static void not_requested(struct msg *m, const char *what)
{
	struct logline l = { STR_INIT };

	log_begin(&l, what);
	log_kvb(&l, "qid", m->qid, m->qidlen);
	log_kv(&l, "status", "not_requested");
	log_end(&l);
}

int bounce(struct msg *m)
{
	struct str hdr = STR_INIT;
	struct dsn_rcpt *e;
	struct dsn d;
	struct logline l = { STR_INIT };
	const char *to = m->env.sender, *esender = "";
	size_t tolen = m->env.sender_len, n[DSN_ACTIONS], nr;
	int sign, code;

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
	e = collect(m, 0, &nr, n);
	if (!nr) {
		free(e);
		not_requested(m, "bounce");
		goto recorded;
	}
	report_init(&d, m, to, tolen, 0);
	d.r = e;
	d.nr = nr;
	/* a report on successes alone returns the headers, whatever RET
	 * says (RFC 3461 4.3) */
	read_original(m, m->env.ret == DSN_RET_FULL && n[DSN_FAILED], &hdr, &d);
	code = send_report(m, &d, esender, &sign);
	free(e);
	str_free(&hdr);
	/* one postern-queue refuses for good (a malformed doublebounceto,
	 * say) would be refused at every try, and keep the message in the
	 * queue for ever: it is given up, and the log says so */
	if (code != 0 && !refused_for_good(code)) {
		warn("warning: unable to queue the bounce for ", m->qid, ", trying again later");
		return 0;
	}
	log_begin(&l, "bounce");
	log_kvb(&l, "qid", m->qid, m->qidlen);
	log_kvb(&l, "to", to, tolen);
	if (code != 0)
		log_kv(&l, "status", "refused");
	log_kvu(&l, "nfailed", n[DSN_FAILED]);
	log_kvu(&l, "ndelivered", n[DSN_DELIVERED]);
	log_kvu(&l, "nrelayed", n[DSN_RELAYED]);
	log_kvu(&l, "nexpanded", n[DSN_EXPANDED]);
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
	report_recorded(m, 0);
	return 1;
}

/* The delay warning (control/bouncewarn): once per message, to the
 * sender, listing the recipients still being retried with their last
 * error, those whose NOTIFY asks.  Never to the null sender or the
 * double-bounce marker. */
int bounce_warn(struct msg *m)
{
	/* after a failure that may pass, no warning is built before this:
	 * not one for each result of each message meanwhile */
	static unsigned long long not_before;
	struct str hdr = STR_INIT;
	struct dsn_rcpt *e;
	struct dsn d;
	struct logline l = { STR_INIT };
	size_t n[DSN_ACTIONS], nr;
	int code, sign;

	if (now < not_before)
		return 0;
	if (null_or_double(m))
		goto recorded;
	e = collect(m, 1, &nr, n);
	if (!nr) {
		free(e);
		not_requested(m, "warning");
		goto recorded;
	}
	report_init(&d, m, m->env.sender, m->env.sender_len, 1);
	d.r = e;
	d.nr = nr;
	read_original(m, 0, &hdr, &d);
	code = send_report(m, &d, "", &sign);
	free(e);
	str_free(&hdr);
	if (code != 0 && !refused_for_good(code)) {
		warn("warning: unable to queue the delay warning for ", m->qid);
		not_before = now + set.retrymin;
		return 0; /* tried again at a deferral after that */
	}
	log_begin(&l, "warning");
	log_kvb(&l, "qid", m->qid, m->qidlen);
	log_kvb(&l, "to", m->env.sender, m->env.sender_len);
	log_kvu(&l, "ndelayed", nr);
	if (code != 0) /* it would be refused again: a warning is not worth that */
		log_kv(&l, "status", "refused");
	log_end(&l);
recorded:
	report_recorded(m, 1);
	return 1;
}
