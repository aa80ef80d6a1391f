/* postern-lspawn: the one long-lived root process.  It reads delivery
 * requests from postern-send (fd 0), each for one user and up to
 * LOCAL_BATCH_MAX messages, checks each field, and for each request starts
 * a postern-local that becomes that user, with the messages as its fds 3,
 * 4, ...; it reports each message's result on fd 1 (doc/pipes.md).  A
 * postern-local that has finished waits a while (control/lingerlocal) for
 * another request for the same user, passed over a socket, so that a
 * stream of mail to one user does not start a process a message.  It
 * never reads a message: it only opens it for the child. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "addr.h"
#include "conf.h"
#include "control.h"
#include "die.h"
#include "envelope.h"
#include "file.h"
#include "fmt.h"
#include "home.h"
#include "identity.h"
#include "io.h"
#include "log.h"
#include "netstring.h"
#include "outq.h"
#include "drain.h"
#include "selfpipe.h"
#include "seconds.h"
#include "str.h"
#include "uniq.h"
#include "spawn.h"
#include "who.h"

#define USAGE "postern-lspawn (started by postern-start)"

/* Idle postern-locals kept at most, whatever their users: each is a
 * process of its own (about 100 KB). */
#define IDLE_MAX 32
#define LINGER_MAX 3600 /* seconds */
#define TIMEOUT_MAX 86400
/* "R\n": a lingering postern-local's word that it waits for a request */
#define READY_LINE "R\n"
/* A postern-local that holds no message and is not waiting for one (it has
 * answered everything and not said R yet, or its wait was ended) exits at
 * once by itself; one that does not within this long is stopped or hung
 * by its user, and is killed, so that it cannot keep a slot and two fds
 * of ours for good (KIDS_MAX of them would stop every user's delivery). */
#define IDLE_GRACE_MS 10000

struct kid {
	pid_t pid;
	int fd;              /* the child's stdout, -1 after EOF */
	int ctl;             /* our end of the socket on its fd 0, -1 when none or closed */
	int ready;           /* said READY_LINE: waits on ctl for a request */
	long long idle_since; /* ms, CLOCK_MONOTONIC, when it said so */
	long long deadline;  /* ms: its next line is due, or it is killed */
	int killed;
	int readable;        /* poll said its fd has something: drain it */
	size_t lines;        /* result lines of the messages it holds, so far */
	size_t n;            /* messages it has not answered */
	char job[LOCAL_BATCH_MAX][JOB_MAX + 1];
	struct str text;     /* what it wrote, at most OUT_MAX + 2 bytes */
	struct str key;      /* mode, home and identity: only the same may reuse it */
};

static int sigfd = -1; /* the self-pipe: readable when a signal came */

static struct kid kids[KIDS_MAX];
static size_t nkids;
static unsigned long long minuid;
static unsigned long long linger_ms;
static unsigned long long timeout_ms; /* control/timeoutlocal: the most a message may take */
static struct str prog = STR_INIT, messdir = STR_INIT, vmailhome = STR_INIT, aliashome = STR_INIT;
/* results not yet written to postern-send: lspawn never blocks on its
 * pipe, which postern-send stops reading while it writes a request.  If
 * postern-send is gone, the children are finished, then lspawn exits. */
static struct outq results = OUTQ_INIT;

static void reply(const char *job, char status, const char *text, size_t tlen)
{
	struct str p = STR_INIT;

	if (!str_cats(&p, job) || !str_catz(&p) || !str_catc(&p, status) || !str_catz(&p) ||
	    !str_catb(&p, text, tlen) || !str_catz(&p) || !outq_frame(&results, p.s, p.len))
		die_nomem();
	str_free(&p);
}

static void replys(const char *job, char status, const char *text)
{
	reply(job, status, text, strlen(text));
}

/* Starts postern-local -b with message k as fd 3 + k and `out` as fd 1.
 * It starts as root and becomes the recipient before it reads anything
 * (doc/postern-local.8, "Start"); so this can be a posix_spawn, which
 * copies none of this process's memory and page tables, and a recipient
 * cannot stop the child while we wait for its exec: until then it is
 * root's.  The fds in mess are all at least 3 + LOCAL_BATCH_MAX, so no
 * dup2 below overwrites one still to be moved.  0 and *pid, or an errno
 * value. */
static int spawn_local(pid_t *pid, const struct who *w, char *ident, const char *home, const char *mode,
                       char **margs, const int *mess, size_t n, int out, int ctl)
{
	static char penv[] = "PATH=/usr/bin:/bin";
	char *envp[] = { penv, ident, 0 };
	char *argv[6 + LOCAL_MSG_ARGS * LOCAL_BATCH_MAX + 1];
	size_t a = 0;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, dflt;
	size_t k;
	int r;

	argv[a++] = (char *)"postern-local";
	argv[a++] = (char *)"-b";
	if (ctl != -1)
		argv[a++] = (char *)"-l";
	argv[a++] = (char *)mode;
	argv[a++] = (char *)w->name;
	argv[a++] = (char *)home;
	for (k = 0; k < LOCAL_MSG_ARGS * n; k++)
		argv[a++] = margs[k];
	argv[a] = 0;
	sigemptyset(&none);
	/* Every signal to its default, not only those we catch or ignore:
	 * glibc's child then sets each once, where for a signal outside the
	 * set it first asks for the action and then sets it anyway (about 120
	 * calls per child, with lspawn waiting, instead of 64). */
	sigfillset(&dflt);
	if ((r = posix_spawn_file_actions_init(&fa)) != 0)
		return r;
	if ((r = posix_spawnattr_init(&at)) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return r;
	}
	r = ctl == -1 ? posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0)
	              : posix_spawn_file_actions_adddup2(&fa, ctl, 0);
	if (r == 0)
		r = posix_spawn_file_actions_adddup2(&fa, out, 1);
	for (k = 0; k < n && r == 0; k++)
		r = posix_spawn_file_actions_adddup2(&fa, mess[k], 3 + (int)k);
	if (r == 0 && (r = posix_spawn_file_actions_addclosefrom_np(&fa, 3 + (int)n)) == 0 &&
	    (r = posix_spawnattr_setsigmask(&at, &none)) == 0 &&
	    (r = posix_spawnattr_setsigdefault(&at, &dflt)) == 0 &&
	    (r = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)) == 0)
		r = posix_spawn(pid, prog.s, &fa, &at, argv, envp);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	return r;
}

/* No more requests for this child: it reads EOF on its fd 0 and exits
 * (within IDLE_GRACE_MS, if it holds no message, or it is killed). */
static void retire(struct kid *k)
{
	if (k->ctl != -1)
		close(k->ctl);
	k->ctl = -1;
	if (k->n == 0)
		k->deadline = monotonic_ms() + IDLE_GRACE_MS;
	k->ready = 0;
}

/* Who a child is: two requests may share a postern-local only when all of
 * this (ident: its POSTERN_IDENTITY, ids and groups) is the same, so a
 * change to the user's groups or home takes a new one. */
static int kid_key(struct str *key, const char *mode, const char *home, const char *name,
                   const struct str *ident)
{
	return str_copys(key, mode) && str_catz(key) && str_cats(key, home) && str_catz(key) &&
	       str_cats(key, name) && str_catz(key) && str_cat(key, ident);
}

/* Gives a waiting postern-local the next request: EXT RECIPIENT SENDER QID
 * MAILPARAMS RCPTPARAMS of each message as NUL-terminated fields in one
 * record, the messages as
 * its fds (doc/pipes.md).  Never blocks: the child is the recipient's, who
 * may have stopped it.  0, or -1 if it did not go. */
static int hand_over(struct kid *k, char *const *margs, const int *mess, size_t m)
{
	static struct str rec = STR_INIT;
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int) * LOCAL_BATCH_MAX)];
	} c;
	struct msghdr mh = { 0 };
	struct iovec iov;
	size_t i;
	ssize_t r;

	rec.len = 0;
	for (i = 0; i < LOCAL_MSG_ARGS * m; i++)
		if (!str_cats(&rec, margs[i]) || !str_catz(&rec))
			die_nomem();
	memset(&c, 0, sizeof c);
	iov.iov_base = rec.s;
	iov.iov_len = rec.len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = c.b;
	mh.msg_controllen = CMSG_SPACE(sizeof(int) * m);
	c.h.cmsg_level = SOL_SOCKET;
	c.h.cmsg_type = SCM_RIGHTS;
	c.h.cmsg_len = CMSG_LEN(sizeof(int) * m);
	memcpy(CMSG_DATA(&c.h), mess, sizeof(int) * m);
	do
		r = sendmsg(k->ctl, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
	while (r == -1 && errno == EINTR);
	return r == (ssize_t)rec.len ? 0 : -1;
}

/* The waiting child for this key that waited least, so the others can
 * time out; or 0. */
static struct kid *idle_for(const struct str *key)
{
	struct kid *best = 0;
	size_t i;
	for (i = 0; i < nkids; i++) {
		struct kid *k = kids + i;
		if (k->ready && k->fd != -1 && k->key.len == key->len && memcmp(k->key.s, key->s, key->len) == 0 &&
		    (!best || k->idle_since > best->idle_since))
			best = k;
	}
	return best;
}

static struct kid *oldest_idle(void)
{
	struct kid *old = 0;
	size_t i;
	for (i = 0; i < nkids; i++)
		if (kids[i].ready && (!old || kids[i].idle_since < old->idle_since))
			old = kids + i;
	return old;
}

static int job_running(const char *job)
{
	size_t i, k;
	for (i = 0; i < nkids; i++)
		for (k = 0; k < kids[i].n; k++)
			if (strcmp(kids[i].job[k], job) == 0)
				return 1;
	return 0;
}

/* The same answer for every message of a request. */
static void reply_all(const char *const *fld, size_t n, char status, const char *text)
{
	size_t k;
	for (k = 0; k < n; k++)
		replys(fld[1 + REQ_MSG_FIELDS * k], status, text);
}

/* Opens a queued message as root (the queue is not the recipient's to
 * read), at an fd no dup2 of spawn_local can overwrite. */
static int open_message(const char *qid)
{
	static struct str mess = STR_INIT;

	if (!path_join(&mess, messdir.s, qid))
		die_nomem();
	return open_queue_file_above(mess.s, 3 + LOCAL_BATCH_MAX);
}

/* USER, then JOB QID EXT RECIPIENT SENDER MAILPARAMS RCPTPARAMS for each
 * message (doc/pipes.md). */
static void request(const struct str *f)
{
	const char *fld[REQ_FIELDS];
	size_t fl[REQ_FIELDS];
	char *margs[LOCAL_MSG_ARGS * LOCAL_BATCH_MAX];
	const char *jobs[LOCAL_BATCH_MAX];
	int mess[LOCAL_BATCH_MAX];
	struct who w;
	const char *mode;
	const char *home;
	static struct str key = STR_INIT, ident = STR_INIT;
	struct kid *k;
	int p[2], s[2] = { -1, -1 }, r, bad;
	long nf = ns_split(f, fld, fl, REQ_FIELDS);
	size_t n, i, m = 0;

	if (nf < 0)
		die(111, "fatal: malformed request from postern-send");
	if ((bad = spawn_check(fld, fl, (size_t)nf)) != 0)
		die(111, "fatal: malformed request from postern-send: bad ", spawn_field_name(bad));
	n = ((size_t)nf - 1) / REQ_MSG_FIELDS;
	for (i = 0; i < n; i++) {
		size_t j;
		if (job_running(fld[1 + REQ_MSG_FIELDS * i]))
			die(111, "fatal: postern-send reused a running job id");
		for (j = 0; j < i; j++)
			if (strcmp(fld[1 + REQ_MSG_FIELDS * j], fld[1 + REQ_MSG_FIELDS * i]) == 0)
				die(111, "fatal: postern-send reused a job id in one request");
	}
	switch (who_get(fld[0], &w)) {
	case 1: break;
	case 0: reply_all(fld, n, 'D', "no such user"); return;
	default:
		reply_all(fld, n, 'Z', errno == E2BIG ? "the user is in more groups than the kernel allows" :
		                                        "unable to look up the user or its groups");
		return;
	}
	switch (spawn_user_allowed(w.name, (unsigned long long)w.uid, minuid,
	                           conf_users[USER_VMAIL], conf_users[USER_ALIAS])) {
	/* The vmail and alias users serve every install on this machine, so
	 * their passwd home may name another install: use this install's. */
	case SPAWN_VIRTUAL: mode = "virtual"; home = vmailhome.s; break;
	case SPAWN_ALIAS: mode = "alias"; home = aliashome.s; break;
	case SPAWN_USER: mode = "user"; home = w.home; break;
	default: {
		struct logline l = { STR_INIT };
		log_begin(&l, "refused");
		log_kvb(&l, "user", fld[0], fl[0]);
		log_kv(&l, "reason", "uid 0 or below minuid");
		log_end(&l);
		reply_all(fld, n, 'D', "delivery to this user is not allowed");
		return;
	}
	}
	for (i = 0; i < n; i++) {
		/* JOB QID EXT RECIPIENT SENDER MAILPARAMS RCPTPARAMS */
		const char *const *x = fld + 1 + REQ_MSG_FIELDS * i;
		char **a = margs + LOCAL_MSG_ARGS * m;
		if ((mess[m] = open_message(x[1])) == -1) {
			replys(x[0], 'Z', "unable to open the queued message");
			continue;
		}
		jobs[m] = x[0];
		/* postern-local's order: EXT RECIPIENT SENDER QID MAILPARAMS RCPTPARAMS */
		a[0] = (char *)x[2];
		a[1] = (char *)x[3];
		a[2] = (char *)x[4];
		a[3] = (char *)x[1];
		a[4] = (char *)x[5];
		a[5] = (char *)x[6];
		m++;
	}
	if (m == 0)
		return;
	/* the recipient's identity for postern-local (src/lib/identity.h); its
	 * NUL counted, as kid_key compares it whole */
	if (!identity_env(&ident, w.uid, w.gid, w.groups, w.ngroups) || !str_catz(&ident) ||
	    !kid_key(&key, mode, home, w.name, &ident))
		die_nomem();
	if ((k = idle_for(&key)) != 0) {
		if (hand_over(k, margs, mess, m) == 0) {
			k->ready = 0;
			goto taken;
		}
		retire(k); /* gone or stopped: a new one below */
	}
	if (nkids == KIDS_MAX) {
		if ((k = oldest_idle()) != 0)
			retire(k);
		for (i = 0; i < m; i++) {
			close(mess[i]);
			replys(jobs[i], 'Z', "too many deliveries at once");
		}
		return;
	}
	k = kids + nkids;
	r = pipe2(p, O_CLOEXEC) == -1 ? errno : 0;
	if (r == 0 && linger_ms && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, s) == -1) {
		/* it can still deliver, only not linger */
		warn_sys("warning: unable to make a socket pair");
		s[0] = s[1] = -1;
	}
	if (r == 0) {
		r = spawn_local(&k->pid, &w, ident.s, home, mode, margs, mess, m, p[1], s[1]);
		close(p[1]);
		if (s[1] != -1)
			close(s[1]);
		if (r != 0) {
			close(p[0]);
			if (s[0] != -1)
				close(s[0]);
		}
	}
	if (r != 0) {
		for (i = 0; i < m; i++) {
			close(mess[i]);
			replys(jobs[i], 'Z', "unable to run postern-local");
		}
		return;
	}
	if (fcntl(p[0], F_SETFL, O_NONBLOCK) == -1)
		die_sys(111, "fatal: unable to set a pipe non-blocking");
	k->fd = p[0];
	k->ctl = s[0];
	k->ready = 0;
	k->text = (struct str)STR_INIT;
	k->key = (struct str)STR_INIT;
	if (!str_copyb(&k->key, key.s, key.len))
		die_nomem();
	nkids++;
taken:
	for (i = 0; i < m; i++) {
		close(mess[i]);
		memcpy(k->job[i], jobs[i], strlen(jobs[i]) + 1);
	}
	k->n = m;
	k->lines = 0;
	k->killed = 0;
	k->readable = 0;
	k->deadline = monotonic_ms() + (long long)timeout_ms;
}

/* What a running child wrote: when every message it holds has its line,
 * their results; then, from a lingering one, READY_LINE.  Anything else
 * ends its reuse (it still exits by itself). */
static void heard(struct kid *k)
{
	static struct spawn_result res[LOCAL_BATCH_MAX];
	struct str *t = &k->text;
	size_t i;

	if (k->n) {
		size_t used, need = spawn_lines(t->s, t->len, k->n);
		if (need == 0) {
			/* each finished message gives the next its full time */
			size_t lines = 0, j;
			for (j = 0; j < t->len; j++)
				lines += t->s[j] == '\n';
			if (lines > k->lines) {
				k->lines = lines;
				k->deadline = monotonic_ms() + (long long)timeout_ms;
			}
			return;
		}
		if (spawn_results(t->s, need, k->n, SPAWN_RUNNING, res, &used) < k->n)
			retire(k);
		for (i = 0; i < k->n; i++)
			reply(k->job[i], res[i].st, res[i].text, res[i].len);
		k->n = 0;
		k->lines = 0;
		k->deadline = monotonic_ms() + IDLE_GRACE_MS; /* to say R, or to exit */
		memmove(t->s, t->s + need, t->len - need);
		t->len -= need;
	}
	if (t->len == 0)
		return;
	if (k->ctl != -1 && t->len == 2 && memcmp(t->s, READY_LINE, 2) == 0) {
		k->ready = 1;
		k->idle_since = monotonic_ms();
	} else if (k->ctl != -1 && t->len == 1 && t->s[0] == 'R')
		return; /* the rest is on its way */
	else
		retire(k);
	t->len = 0;
}

/* *due becomes in (ms from now) if that comes first; -1 is "nothing due". */
static void sooner(long long *due, long long in)
{
	if (*due == -1 || in < *due)
		*due = in;
}

static void kill_stuck(struct kid *k, unsigned long long seconds)
{
	struct logline l = { STR_INIT };

	log_begin(&l, "timeout");
	log_kvu(&l, "pid", (unsigned long long)k->pid);
	log_kvu(&l, "messages", k->n);
	log_kvu(&l, "seconds", seconds);
	log_end(&l);
	if (kill(k->pid, SIGKILL) == -1 && errno != ESRCH)
		warn_sys("warning: unable to kill a postern-local");
	k->killed = 1;
}

/* Kills a child that gave no line for control/timeoutlocal seconds (a
 * recipient can stop their own postern-local, and must not hold a slot of
 * everyone's deliveries for long).  Ends the wait of children idle longer
 * than control/lingerlocal, or all of them when we stop, or the oldest
 * when too many wait.  Returns the ms until the next of these is due, or
 * -1. */
static int expire(int stopping)
{
	long long now = monotonic_ms(), due = -1;
	size_t i, idle = 0;
	struct kid *old;

	for (i = 0; i < nkids; i++) {
		struct kid *k = kids + i;
		if (!k->killed && (k->n || !k->ready)) {
			/* with messages: stopped, hung or looping, and they are
			 * retried (Z); without: it answered everything and neither
			 * waits nor exits */
			if (now >= k->deadline)
				kill_stuck(k, k->n ? timeout_ms / 1000 : IDLE_GRACE_MS / 1000);
			else
				sooner(&due, k->deadline - now);
			if (!k->n)
				continue;
		}
		if (!k->ready)
			continue;
		if (stopping || k->fd == -1 || now - k->idle_since >= (long long)linger_ms) {
			retire(k); /* it now has IDLE_GRACE_MS to exit */
			sooner(&due, IDLE_GRACE_MS);
			continue;
		}
		idle++;
		sooner(&due, k->idle_since + (long long)linger_ms - now);
	}
	for (; idle > IDLE_MAX && (old = oldest_idle()) != 0; idle--) {
		retire(old);
		sooner(&due, IDLE_GRACE_MS);
	}
	return due > 0x7fffffff ? 0x7fffffff : (int)due;
}

static void reap(void)
{
	static struct spawn_result res[LOCAL_BATCH_MAX];

	for (;;) {
		int status;
		size_t i, k;
		pid_t pid = waitpid(-1, &status, WNOHANG);
		if (pid <= 0)
			return;
		for (i = 0; i < nkids; i++)
			if (kids[i].pid == pid)
				break;
		if (i == nkids)
			continue;
		if (drain_bounded(&kids[i].fd, &kids[i].text, OUT_MAX + 2) == -1)
			die_nomem();
		if (kids[i].fd != -1)
			close(kids[i].fd); /* a grandchild may hold it open: we do not wait for it */
		retire(kids + i);
		spawn_results(kids[i].text.s ? kids[i].text.s : "", kids[i].text.len, kids[i].n, status, res, 0);
		for (k = 0; k < kids[i].n; k++)
			reply(kids[i].job[k], res[k].st, res[k].text, res[k].len);
		str_free(&kids[i].text);
		str_free(&kids[i].key);
		kids[i] = kids[--nkids];
	}
}

/* Up to KIDS_MAX children with two descriptors each (its output, its
 * socket) and a batch's message files on their way need more than the
 * usual soft limit of 1024, past which every start would fail with Z.  As
 * root we may raise the limit, the hard one too if it is lower. */
static void fd_room(void)
{
	const rlim_t want = 2 * KIDS_MAX + LOCAL_BATCH_MAX + 64;
	struct rlimit r;

	if (getrlimit(RLIMIT_NOFILE, &r) == -1) {
		warn_sys("warning: unable to read the limit on open files");
		return;
	}
	if (r.rlim_cur == RLIM_INFINITY || r.rlim_cur >= want)
		return;
	if (r.rlim_max != RLIM_INFINITY && r.rlim_max < want) {
		struct rlimit both = { want, want };
		if (setrlimit(RLIMIT_NOFILE, &both) == 0)
			return;
		/* without CAP_SYS_RESOURCE: as far as the hard limit goes */
		warn("warning: the hard limit on open files is below 2 per postern-local: "
		     "fewer local deliveries can run at once");
		r.rlim_cur = r.rlim_max;
	} else
		r.rlim_cur = want;
	if (setrlimit(RLIMIT_NOFILE, &r) == -1)
		warn_sys("warning: unable to raise the limit on open files: fewer local deliveries can run at once");
}

int main(int argc, char **argv)
{
	static char inbuf[4096];
	struct io in;
	struct str f = STR_INIT;
	int input = 1;

	progname = "postern-lspawn";
	if (argc > 1)
		die_usage(USAGE);
	(void)argv;
	if (geteuid() != 0)
		die(111, "fatal: must run as root");
	if (!home_path(&prog, "bin/postern-local") || !home_path(&messdir, "queue/mess") ||
	    !home_path(&vmailhome, "vmail") || !home_path(&aliashome, "alias"))
		die_nomem();
	if (control_num("minuid", &minuid, 1000) < 0)
		die_sys(111, "fatal: unable to read control/minuid");
	if (control_num("lingerlocal", &linger_ms, 2) < 0)
		die_sys(111, "fatal: unable to read control/lingerlocal");
	if (linger_ms > LINGER_MAX)
		linger_ms = LINGER_MAX;
	linger_ms *= 1000;
	if (control_num("timeoutlocal", &timeout_ms, 1200) < 0)
		die_sys(111, "fatal: unable to read control/timeoutlocal");
	if (timeout_ms == 0)
		timeout_ms = 1;
	if (timeout_ms > TIMEOUT_MAX)
		timeout_ms = TIMEOUT_MAX;
	timeout_ms *= 1000;
	fd_room();
	if (chdir("/") == -1)
		die_sys(111, "fatal: unable to chdir to /");
	if ((sigfd = selfpipe_init(SELFPIPE_CHLD)) == -1)
		die_sys(111, "fatal: unable to catch signals");
	if (fcntl(0, F_SETFD, FD_CLOEXEC) == -1 || fcntl(1, F_SETFD, FD_CLOEXEC) == -1 ||
	    fcntl(1, F_SETFL, O_NONBLOCK) == -1)
		die_sys(111, "fatal: missing the pipes from postern-start");
	io_init(&in, 0, inbuf, sizeof inbuf);

	while (input || nkids || outq_waiting(&results)) {
		struct pollfd p[3 + KIDS_MAX];
		static size_t kid_of[KIDS_MAX]; /* p[first_kid + j] is kids[kid_of[j]]'s */
		size_t n = 0, i, first_kid;
		int r, wait;

		if (selfpipe_term)
			input = 0; /* finish the deliveries that run, start none */
		wait = expire(!input);
		p[n++] = (struct pollfd){ sigfd, POLLIN, 0 };
		if (input)
			p[n++] = (struct pollfd){ 0, POLLIN, 0 };
		if (outq_waiting(&results))
			p[n++] = (struct pollfd){ 1, POLLOUT, 0 };
		first_kid = n;
		for (i = 0; i < nkids; i++)
			if (kids[i].fd != -1) {
				kid_of[n - first_kid] = i;
				p[n++] = (struct pollfd){ kids[i].fd, POLLIN, 0 };
			}
		r = poll(p, (nfds_t)n, wait);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			die_sys(111, "fatal: poll failed");
		}
		/* marked before reap moves kids around: the mark moves with them */
		for (i = first_kid; i < n; i++)
			if (p[i].revents)
				kids[kid_of[i - first_kid]].readable = 1;
		if (p[0].revents) {
			selfpipe_drain();
			reap();
		}
		/* only those with something to read: a read of every child at
		 * every wake-up is a system call per child, up to 1100 */
		for (i = 0; i < nkids; i++) {
			if (!kids[i].readable)
				continue;
			kids[i].readable = 0;
			if (drain_bounded(&kids[i].fd, &kids[i].text, OUT_MAX + 2) == -1)
				die_nomem();
			heard(kids + i);
		}
		/* the results heard so far go first, and each request's own after
		 * it: a request that makes us die (malformed, or no memory) must not
		 * take them along, or their deliveries would be made again */
		outq_send(&results, 1, "postern-send");
		if (input && p[1].revents) {
			/* send writes each frame with one write below PIPE_BUF, so a
			 * readable pipe holds whole frames */
			do {
				r = ns_read(&in, &f, REQ_MAX);
				if (r == 0) {
					input = 0;
					break;
				}
				if (r < 0)
					die_sys(111, "fatal: bad frame from postern-send");
				request(&f);
				outq_send(&results, 1, "postern-send"); /* before the next request can end us */
			} while (io_buffered(&in));
		}
		/* what this round answered goes at once, as far as the pipe takes it */
		outq_send(&results, 1, "postern-send");
	}
	str_free(&f);
	return 0;
}
