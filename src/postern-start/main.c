/* postern-start: runs as root under s6, creates the pipes of doc/pipes.md
 * and starts postern-send, postern-lspawn, postern-clean and
 * postern-rspawn, each as its
 * own user with only the fds it needs.  If one of them exits, the others
 * are stopped too and s6 starts the whole set again. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <sys/prctl.h>
#include <unistd.h>
#include "conf.h"
#include "die.h"
#include "file.h"
#include "ids.h"
#include "fmt.h"
#include "home.h"
#include "log.h"
#include "selfpipe.h"
#include "str.h"

#define USAGE "postern-start [-d notification-fd]"
#define GRACE 10 /* seconds between SIGTERM and SIGKILL */

enum { SEND, LSPAWN, CLEAN, RSPAWN, NKIDS };
static pid_t start_pid; /* our pid, for the children's parent-death check */
static int sigfd = -1; /* the self-pipe: readable when a signal came */

static const char *const names[NKIDS] = { "postern-send", "postern-lspawn", "postern-clean",
                                          "postern-rspawn" };
static pid_t pids[NKIDS];

struct fdmap {
	int src, dst;
};

static void status_str(int status, struct str *out)
{
	out->len = 0;
	if ((WIFEXITED(status) && (!str_cats(out, "exit ") || !str_catu(out, (unsigned long long)WEXITSTATUS(status)))) ||
	    (WIFSIGNALED(status) && (!str_cats(out, "signal ") || !str_catu(out, (unsigned long long)WTERMSIG(status)))))
		die_nomem();
}

/* Runs in the child: puts each src on its dst, closes everything else,
 * takes on uid and gid (and that group alone), and execs. */
static _Noreturn void child(int which, const struct fdmap *map, size_t n, uid_t uid, gid_t gid, const char *home)
{
	struct str prog = STR_INIT, henv = STR_INIT;
	char *argv[2], *envp[3];
	static char penv[] = "PATH=/usr/bin:/bin";
	int tmp[16], maxdst = 2, fd;
	sigset_t none;
	size_t i;

	sigemptyset(&none);
	if (signal(SIGCHLD, SIG_DFL) == SIG_ERR || signal(SIGTERM, SIG_DFL) == SIG_ERR ||
	    signal(SIGINT, SIG_DFL) == SIG_ERR || signal(SIGPIPE, SIG_DFL) == SIG_ERR ||
	    signal(SIGHUP, SIG_DFL) == SIG_ERR || signal(SIGALRM, SIG_DFL) == SIG_ERR ||
	    sigprocmask(SIG_SETMASK, &none, 0) == -1)
		die_sys(111, "fatal: unable to reset signals for ", names[which]);
	/* via fds above every dst first, so no dup2 overwrites a src still needed */
	for (i = 0; i < n; i++) {
		tmp[i] = fcntl(map[i].src, F_DUPFD_CLOEXEC, 64);
		if (tmp[i] == -1)
			die_sys(111, "fatal: unable to set up fds for ", names[which]);
	}
	for (i = 0; i < n; i++) {
		if (dup2(tmp[i], map[i].dst) == -1)
			die_sys(111, "fatal: unable to set up fds for ", names[which]);
		if (map[i].dst > maxdst)
			maxdst = map[i].dst;
	}
	for (fd = 0; fd <= maxdst; fd++) {
		int used = fd == 2;
		for (i = 0; i < n; i++)
			used |= map[i].dst == fd;
		if (used)
			continue;
		if (fd <= 1) {
			int nul = openat(AT_FDCWD, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
			if (nul == -1 || (nul != fd && (dup2(nul, fd) == -1 || close(nul) == -1)))
				die_sys(111, "fatal: unable to open /dev/null");
		} else
			close(fd);
	}
	if (close_range((unsigned)maxdst + 1, ~0U, 0) == -1)
		die_sys(111, "fatal: unable to close fds");
	if (uid != 0) {
		int r = ids_become(uid, gid, 1, &gid);
		if (r == IDS_CALL_FAILED)
			die_sys(111, "fatal: unable to switch user for ", names[which]);
		if (r == IDS_DID_NOT_TAKE)
			die(111, "fatal: the switch of user for ", names[which], " did not take");
	}
	/* If postern-start is killed, its set must not live on beside the set s6
	 * starts next: two schedulers on one queue would deliver twice.  Set
	 * after the switch of user, which clears it; the getppid() check closes
	 * the race with a parent that died before this line. */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1 || getppid() != start_pid)
		_exit(111);
	if (!path_join(&prog, home, "bin") || !str_catc(&prog, '/') || !str_cats(&prog, names[which]) ||
	    !str_cats(&henv, "POSTERN_HOME=") || !str_cats(&henv, home))
		die_nomem();
	argv[0] = (char *)names[which];
	argv[1] = 0;
	envp[0] = penv;
	envp[1] = henv.s;
	envp[2] = 0;
	execve(prog.s, argv, envp);
	die_sys(111, "fatal: unable to run ", prog.s);
}

/* Signals are blocked from before the fork until the child has put its
 * handlers back to the defaults: a SIGTERM from stop_all() that reached
 * the child while it still had our handler would have been taken as ours
 * and lost, and the child would have run on until the SIGKILL. */
static pid_t start(int which, const struct fdmap *map, size_t n, uid_t uid, gid_t gid, const char *home)
{
	sigset_t all, old;
	pid_t pid;

	start_pid = getpid();
	sigfillset(&all);
	if (sigprocmask(SIG_BLOCK, &all, &old) == -1)
		die_sys(111, "fatal: unable to block signals");
	pid = fork();
	if (pid == -1)
		die_sys(111, "fatal: unable to fork");
	if (pid == 0)
		child(which, map, n, uid, gid, home);
	if (sigprocmask(SIG_SETMASK, &old, 0) == -1)
		die_sys(111, "fatal: unable to unblock signals");
	return pid;
}

static void user(enum conf_user u, uid_t *uid)
{
	struct passwd *pw = getpwnam(conf_users[u]);
	if (!pw)
		die(111, "fatal: no such user: ", conf_users[u]);
	*uid = pw->pw_uid;
}

static gid_t group(enum conf_group g)
{
	struct group *gr = getgrnam(conf_groups[g]);
	if (!gr)
		die(111, "fatal: no such group: ", conf_groups[g]);
	return gr->gr_gid;
}

/* Reaps what has exited; returns the index of a child that did, or -1. */
static int reap(void)
{
	int status, k, found = -1;
	pid_t pid;
	struct str s = STR_INIT;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		for (k = 0; k < NKIDS; k++)
			if (pids[k] == pid) {
				struct logline l = { STR_INIT };
				pids[k] = 0;
				status_str(status, &s);
				log_begin(&l, "exited");
				log_kv(&l, "program", names[k]);
				log_kvu(&l, "pid", (unsigned long long)pid);
				log_kv(&l, "status", s.s ? s.s : "");
				log_end(&l);
				found = k;
			}
	str_free(&s);
	return found;
}

static int alive(void)
{
	int k, n = 0;
	for (k = 0; k < NKIDS; k++)
		n += pids[k] != 0;
	return n;
}

/* SIGTERM to every child still running, SIGKILL after GRACE seconds. */
static _Noreturn void stop_all(int code)
{
	time_t deadline = time(0) + GRACE;
	int k, killed = 0;

	for (k = 0; k < NKIDS; k++)
		if (pids[k] && kill(pids[k], SIGTERM) == -1 && errno != ESRCH)
			warn_sys("warning: unable to signal ", names[k]);
	while (alive()) {
		struct pollfd p = { sigfd, POLLIN, 0 };
		time_t now = time(0);
		reap();
		if (!alive())
			break;
		if (now >= deadline && !killed) {
			for (k = 0; k < NKIDS; k++)
				if (pids[k]) {
					warn("warning: ", names[k], " did not stop, killing it");
					kill(pids[k], SIGKILL);
				}
			killed = 1;
		}
		if (poll(&p, 1, 1000) > 0) {
			selfpipe_drain();
		}
	}
	_exit(code);
}

int main(int argc, char **argv)
{
	const char *home;
	uid_t send_uid, queue_uid, remote_uid;
	gid_t gid;
	int lreq[2], lres[2], creq[2], cres[2], rreq[2], rres[2], ready[2];
	int notify = -1, k;

	progname = "postern-start";
	if (argc == 3 && strcmp(argv[1], "-d") == 0) {
		unsigned long long u;
		if (!scan_ulong_all(argv[2], strlen(argv[2]), &u) || u < 3 || u > 1023)
			die_usage(USAGE);
		notify = (int)u;
		if (fcntl(notify, F_SETFD, FD_CLOEXEC) == -1)
			die_sys(111, "fatal: notification fd ", argv[2], " is not open");
	} else if (argc != 1)
		die_usage(USAGE);
	if (geteuid() != 0)
		die(111, "fatal: must run as root");
	home = home_dir();
	user(USER_SEND, &send_uid);
	user(USER_QUEUE, &queue_uid);
	user(USER_REMOTE, &remote_uid);
	gid = group(GROUP_POSTERN);
	if (send_uid == 0 || queue_uid == 0 || remote_uid == 0)
		die(111, "fatal: postern's users must not be root");

	/* SIGHUP (s6-svc -h) and SIGALRM (s6-svc -a) are postern-send's:
	 * passed on, not our death */
	if ((sigfd = selfpipe_init(SELFPIPE_CHLD | SELFPIPE_HUP | SELFPIPE_ALRM)) == -1 || pipe2(lreq, O_CLOEXEC) == -1 ||
	    pipe2(lres, O_CLOEXEC) == -1 || pipe2(creq, O_CLOEXEC) == -1 ||
	    pipe2(cres, O_CLOEXEC) == -1 || pipe2(rreq, O_CLOEXEC) == -1 ||
	    pipe2(rres, O_CLOEXEC) == -1 || pipe2(ready, O_CLOEXEC) == -1)
		die_sys(111, "fatal: unable to create pipes");

	{
		const struct fdmap sendmap[] = { { lreq[1], 3 }, { lres[0], 4 }, { creq[1], 5 },
		                                 { cres[0], 6 }, { rreq[1], 7 }, { rres[0], 8 },
		                                 { ready[1], 9 } };
		const struct fdmap lmap[] = { { lreq[0], 0 }, { lres[1], 1 } };
		const struct fdmap cmap[] = { { creq[0], 0 }, { cres[1], 1 } };
		const struct fdmap rmap[] = { { rreq[0], 0 }, { rres[1], 1 } };
		pids[LSPAWN] = start(LSPAWN, lmap, 2, 0, gid, home);
		pids[CLEAN] = start(CLEAN, cmap, 2, queue_uid, gid, home);
		/* postern-remote is in group postern: it may read queue/mess/ID */
		pids[RSPAWN] = start(RSPAWN, rmap, 2, remote_uid, gid, home);
		pids[SEND] = start(SEND, sendmap, 7, send_uid, gid, home);
	}
	close(lreq[0]); close(lreq[1]); close(lres[0]); close(lres[1]);
	close(creq[0]); close(creq[1]); close(cres[0]); close(cres[1]);
	close(rreq[0]); close(rreq[1]); close(rres[0]); close(rres[1]);
	close(ready[1]);

	for (;;) {
		struct pollfd p[2];
		nfds_t n = 0;
		p[n++] = (struct pollfd){ sigfd, POLLIN, 0 };
		if (ready[0] != -1)
			p[n++] = (struct pollfd){ ready[0], POLLIN, 0 };
		if (poll(p, n, -1) == -1) {
			if (errno == EINTR)
				continue;
			die_sys(111, "fatal: poll failed");
		}
		if (p[0].revents) {
			selfpipe_drain();
		}
		if (n > 1 && p[1].revents) {
			char b;
			ssize_t r = read(ready[0], &b, 1);
			if (r == 1 && notify != -1) {
				/* postern-send has scanned the queue and is listening */
				if (write(notify, "\n", 1) != 1)
					warn_sys("warning: unable to signal readiness");
				close(notify);
				notify = -1;
			}
			if (r != -1 || errno != EINTR) {
				close(ready[0]);
				ready[0] = -1;
			}
		}
		if (selfpipe_term)
			stop_all(0);
		if (selfpipe_hup) {
			selfpipe_hup = 0;
			if (pids[SEND] && kill(pids[SEND], SIGHUP) == -1 && errno != ESRCH)
				warn_sys("warning: unable to pass SIGHUP on to postern-send");
		}
		if (selfpipe_alrm) {
			selfpipe_alrm = 0;
			if (pids[SEND] && kill(pids[SEND], SIGALRM) == -1 && errno != ESRCH)
				warn_sys("warning: unable to pass SIGALRM on to postern-send");
		}
		k = reap();
		if (k >= 0) {
			warn("fatal: ", names[k], " exited, stopping the others");
			stop_all(111);
		}
	}
}
