/* postern-rspawn: runs as postern-remote under postern-start.  It reads
 * remote delivery jobs from postern-send (fd 0), each for one domain and
 * up to MSGS_MAX messages, forks one postern-remote per job with the
 * queued messages as its fds 3, 4, ..., and reports each message's
 * per-recipient results on fd 1 (doc/pipes.md).  It never reads a message
 * and never writes a file. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include "die.h"
#include "file.h"
#include "home.h"
#include "io.h"
#include "log.h"
#include "netstring.h"
#include "outq.h"
#include "drain.h"
#include "selfpipe.h"
#include "str.h"
#include "fmt.h"
#include "rspawn.h"

#define USAGE "postern-rspawn (started by postern-start)"

struct kid {
	pid_t pid;
	int fd;               /* the child's stdout, -1 after EOF */
	size_t nm;            /* messages */
	char job[MSGS_MAX][JOB_MAX + 1];
	size_t n[MSGS_MAX];   /* recipients of each */
	struct str out;       /* what it wrote, at most OUT_MAX bytes */
};

static int sigfd = -1; /* the self-pipe: readable when a signal came */

static struct kid kids[KIDS_MAX];
static size_t nkids;
static struct str prog = STR_INIT, messdir = STR_INIT;
static struct outq results = OUTQ_INIT; /* frames not yet written to postern-send */

static void queue_frame(const struct str *payload)
{
	if (!outq_frame(&results, payload->s, payload->len))
		die_nomem();
}


/* No postern-remote ran: every message of the job gets X and why. */
static void reply_all(const struct request *rq, const char *why)
{
	struct str p = STR_INIT;
	size_t i, k;

	for (k = 0; k < rq->nm; k++) {
		int ok = str_copys(&p, rq->m[k].job) && str_catz(&p) && str_catc(&p, 'X') && str_catz(&p) &&
		         str_cats(&p, why) && str_catz(&p);
		for (i = 0; ok && i < rq->m[k].n; i++)
			ok = str_catc(&p, 'Z') && str_catz(&p) && str_cats(&p, why) && str_catz(&p);
		if (!ok)
			die_nomem();
		queue_frame(&p);
	}
	str_free(&p);
}

/* In the child: message k on fd 3 + k, /dev/null on fd 0, the pipe on
 * fd 1, stderr kept. */
static _Noreturn void child(const struct request *rq, int out)
{
	static char penv[] = "PATH=/usr/bin:/bin";
	/* -b DOMAIN, then SENDER MAILPARAMS QID N a message and RCPT
	 * RCPTPARAMS a recipient (RCPTS_MAX in the whole job) */
	static char *argv[3 + MSGS_MAX * 4 + RCPTS_MAX * 2 + 1];
	static char nums[MSGS_MAX][FMT_ULONG + 1];
	char *envp[] = { penv, 0 };
	struct str path = STR_INIT;
	int high[MSGS_MAX];
	sigset_t none;
	size_t i, k, a = 0;

	if (dup2(out, 1) == -1)
		_exit(111);
	{
		/* fd 0 is send's pipe here, close-on-exec: the child gets
		 * /dev/null, never a closed fd 0 that its next open would take */
		int null = openat(AT_FDCWD, "/dev/null", O_RDONLY | O_CLOEXEC);
		if (null == -1 || dup2(null, 0) == -1)
			_exit(111);
		if (null != 0)
			close(null);
	}
	/* opened above every fd the dup2s below make, so none is overwritten */
	for (k = 0; k < rq->nm; k++)
		if (!path_join(&path, messdir.s, rq->m[k].qid) ||
		    (high[k] = open_queue_file_above(path.s, 3 + MSGS_MAX)) == -1)
			_exit(111);
	for (k = 0; k < rq->nm; k++)
		if (dup2(high[k], 3 + (int)k) == -1)
			_exit(111);
	if (close_range(3 + (unsigned)rq->nm, ~0U, 0) == -1)
		_exit(111);
	argv[a++] = (char *)"postern-remote";
	argv[a++] = (char *)"-b";
	argv[a++] = (char *)rq->domain;
	for (k = 0; k < rq->nm; k++) {
		nums[k][fmt_ulong(nums[k], rq->m[k].n)] = 0;
		argv[a++] = (char *)rq->m[k].sender;
		argv[a++] = (char *)rq->m[k].params;
		argv[a++] = (char *)rq->m[k].qid;
		argv[a++] = nums[k];
		for (i = 0; i < 2 * rq->m[k].n; i++)
			argv[a++] = (char *)rq->m[k].rcpt[i]; /* the address, then its parameters */
	}
	argv[a] = 0;
	sigemptyset(&none);
	if (signal(SIGPIPE, SIG_DFL) == SIG_ERR || signal(SIGCHLD, SIG_DFL) == SIG_ERR ||
	    sigprocmask(SIG_SETMASK, &none, 0) == -1)
		_exit(111);
	execve(prog.s, argv, envp);
	_exit(111);
}

static int job_running(const char *job)
{
	size_t i, k;
	for (i = 0; i < nkids; i++)
		for (k = 0; k < kids[i].nm; k++)
			if (strcmp(kids[i].job[k], job) == 0)
				return 1;
	return 0;
}

static void request(const struct str *f)
{
	static struct request rq;
	const char *bad = rspawn_parse(f, &rq);
	struct kid *k;
	size_t i;
	int p[2];

	if (bad)
		die(111, "fatal: malformed request from postern-send: ", bad);
	for (i = 0; i < rq.nm; i++)
		if (job_running(rq.m[i].job))
			die(111, "fatal: postern-send reused a running job id");
	if (nkids == KIDS_MAX) {
		reply_all(&rq, "too many deliveries at once");
		return;
	}
	if (pipe2(p, O_CLOEXEC) == -1) {
		reply_all(&rq, "unable to create a pipe");
		return;
	}
	k = kids + nkids;
	k->pid = fork();
	if (k->pid == -1) {
		close(p[0]);
		close(p[1]);
		reply_all(&rq, "unable to fork");
		return;
	}
	if (k->pid == 0)
		child(&rq, p[1]);
	close(p[1]);
	if (fcntl(p[0], F_SETFL, O_NONBLOCK) == -1)
		die_sys(111, "fatal: unable to set a pipe non-blocking");
	k->fd = p[0];
	k->nm = rq.nm;
	for (i = 0; i < rq.nm; i++) {
		memcpy(k->job[i], rq.m[i].job, strlen(rq.m[i].job) + 1);
		k->n[i] = rq.m[i].n;
	}
	k->out.len = 0;
	nkids++;
}

static void reap(void)
{
	for (;;) {
		struct str p = STR_INIT;
		int status;
		size_t i;
		pid_t pid = waitpid(-1, &status, WNOHANG);
		if (pid <= 0)
			return;
		for (i = 0; i < nkids; i++)
			if (kids[i].pid == pid)
				break;
		if (i == nkids)
			continue;
		if (drain_bounded(&kids[i].fd, &kids[i].out, OUT_MAX) == -1)
			die_nomem();
		if (kids[i].fd != -1)
			close(kids[i].fd);
		{
			size_t start[MSGS_MAX], len[MSGS_MAX], k, whole;
			const char *o = kids[i].out.s ? kids[i].out.s : "";
			int exact;
			/* a message written whole was settled before anything that
			 * came after it: its result stands even if the child died
			 * later (else a delivered message would go out again); the
			 * others have none */
			whole = rspawn_split(o, kids[i].out.len, kids[i].n, kids[i].nm, start, len, &exact);
			for (k = 0; k < kids[i].nm; k++) {
				if (!rspawn_result(&p, kids[i].job[k], kids[i].n[k], k < whole ? o + start[k] : "",
				                   k < whole ? len[k] : 0, k < whole ? 0 : status))
					die_nomem();
				queue_frame(&p);
			}
		}
		str_free(&p);
		str_free(&kids[i].out);
		kids[i] = kids[--nkids];
		memset(kids + nkids, 0, sizeof kids[nkids]);
	}
}

int main(int argc, char **argv)
{
	static char inbuf[16384];
	struct io in;
	struct str f = STR_INIT;
	int input = 1;

	progname = "postern-rspawn";
	if (argc > 1)
		die_usage(USAGE);
	(void)argv;
	if (geteuid() == 0)
		die(111, "fatal: must not run as root");
	/* the parent of every postern-remote, and of their uid: none of
	 * them may ptrace it and steer what it starts (postern-remote(8)) */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		die_sys(111, "fatal: unable to make myself undumpable");
	if (!home_path(&prog, "bin/postern-remote") || !home_path(&messdir, "queue/mess"))
		die_nomem();
	if (chdir("/") == -1)
		die_sys(111, "fatal: unable to chdir to /");
	if ((sigfd = selfpipe_init(SELFPIPE_CHLD)) == -1)
		die_sys(111, "fatal: unable to catch signals");
	if (fcntl(0, F_SETFD, FD_CLOEXEC) == -1 || fcntl(1, F_SETFD, FD_CLOEXEC) == -1 ||
	    fcntl(1, F_SETFL, O_NONBLOCK) == -1)
		die_sys(111, "fatal: missing the pipes from postern-start");
	io_init(&in, 0, inbuf, sizeof inbuf);

	while (input || nkids || outq_waiting(&results)) {
		static struct pollfd p[3 + KIDS_MAX];
		size_t n = 0, i, in_at = 0;
		int r;

		if (selfpipe_term)
			input = 0; /* finish the deliveries that run, start none */
		p[n++] = (struct pollfd){ sigfd, POLLIN, 0 };
		if (input) {
			in_at = n;
			p[n++] = (struct pollfd){ 0, POLLIN, 0 };
		}
		if (outq_waiting(&results))
			p[n++] = (struct pollfd){ 1, POLLOUT, 0 };
		for (i = 0; i < nkids; i++)
			if (kids[i].fd != -1)
				p[n++] = (struct pollfd){ kids[i].fd, POLLIN, 0 };
		r = poll(p, (nfds_t)n, nkids ? 1000 : -1);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			die_sys(111, "fatal: poll failed");
		}
		if (p[0].revents) {
			selfpipe_drain();
		}
		for (i = 0; i < nkids; i++)
			if (drain_bounded(&kids[i].fd, &kids[i].out, OUT_MAX) == -1)
				die_nomem();
		reap();
		if (input && in_at && p[in_at].revents) {
			do {
				r = ns_read(&in, &f, REQ_MAX);
				if (r == 0) {
					input = 0;
					break;
				}
				if (r < 0)
					die_sys(111, "fatal: bad frame from postern-send");
				request(&f);
			} while (io_buffered(&in));
		}
		/* what this round queued goes at once, as far as the pipe takes it */
		outq_send(&results, 1, "postern-send");
	}
	str_free(&f);
	return 0;
}
