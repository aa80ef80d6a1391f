/* postern-lspawn: the one long-lived root process.  It reads delivery
 * requests from postern-send (fd 0), checks each field, and for each starts
 * a postern-local that becomes the recipient's user, with the message as
 * its fd 0; it reports each child's exit on fd 1 (doc/pipes.md).  It never
 * reads a message: it only opens it for the child. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
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
#include "io.h"
#include "log.h"
#include "netstring.h"
#include "drain.h"
#include "selfpipe.h"
#include "str.h"
#include "uniq.h"
#include "spawn.h"
#include "who.h"

#define USAGE "postern-lspawn (started by postern-start)"

struct kid {
	pid_t pid;
	int fd;              /* the child's stdout, -1 after EOF */
	char job[JOB_MAX + 1];
	struct str text;     /* what it wrote, at most TEXT_MAX bytes */
};

static int sigfd = -1; /* the self-pipe: readable when a signal came */

static struct kid kids[KIDS_MAX];
static size_t nkids;
static unsigned long long minuid;
static struct str prog = STR_INIT, messdir = STR_INIT, vmailhome = STR_INIT, aliashome = STR_INIT;
static int send_gone;

static void reply(const char *job, char status, const char *text, size_t tlen)
{
	struct str p = STR_INIT, f = STR_INIT;

	if (send_gone)
		return;
	if (!str_cats(&p, job) || !str_catz(&p) || !str_catc(&p, status) || !str_catz(&p) ||
	    !str_catb(&p, text, tlen) || !str_catz(&p) || !ns_cat(&f, p.s, p.len))
		die_nomem();
	if (write_all(1, f.s, f.len) == -1) {
		/* postern-send died: finish the children, then exit */
		warn_sys("warning: unable to write to postern-send");
		send_gone = 1;
	}
	str_free(&p);
	str_free(&f);
}

static void replys(const char *job, char status, const char *text)
{
	reply(job, status, text, strlen(text));
}

/* The recipient's identity for postern-local: POSTERN_IDENTITY=UID:GID:G1,...
 * (src/postern-local/identity.h). */
static int identity_env(struct str *e, const struct who *w)
{
	size_t i;

	if (!str_copys(e, "POSTERN_IDENTITY=") || !str_catu(e, (unsigned long long)w->uid) || !str_catc(e, ':') ||
	    !str_catu(e, (unsigned long long)w->gid) || !str_catc(e, ':'))
		return 0;
	for (i = 0; i < w->ngroups; i++)
		if ((i && !str_catc(e, ',')) || !str_catu(e, (unsigned long long)w->groups[i]))
			return 0;
	return str_catz(e);
}

/* Starts postern-local with the message as fd 0 and `out` as fd 1.  It
 * starts as root and becomes the recipient before it reads anything
 * (doc/postern-local.8, "Start"); so this can be a posix_spawn, which
 * copies none of this process's memory and page tables, and a recipient
 * cannot stop the child while we wait for its exec: until then it is
 * root's.  0 and *pid, or an errno value. */
static int spawn_local(pid_t *pid, const struct who *w, const char *home, const char *mode, const char *ext,
                       const char *rcpt, const char *sender, const char *qid, int mess, int out)
{
	static char penv[] = "PATH=/usr/bin:/bin";
	static struct str ident = STR_INIT;
	char *envp[] = { penv, 0, 0 };
	char *argv[] = { (char *)"postern-local", (char *)mode, (char *)w->name, (char *)home, (char *)ext,
	                 (char *)rcpt, (char *)sender, (char *)qid, 0 };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, dflt;
	int r;

	if (!identity_env(&ident, w))
		return ENOMEM;
	envp[1] = ident.s;
	sigemptyset(&none);
	sigemptyset(&dflt);
	sigaddset(&dflt, SIGPIPE);
	sigaddset(&dflt, SIGCHLD);
	if ((r = posix_spawn_file_actions_init(&fa)) != 0)
		return r;
	if ((r = posix_spawnattr_init(&at)) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return r;
	}
	if ((r = posix_spawn_file_actions_adddup2(&fa, mess, 0)) == 0 &&
	    (r = posix_spawn_file_actions_adddup2(&fa, out, 1)) == 0 &&
	    (r = posix_spawn_file_actions_addclosefrom_np(&fa, 3)) == 0 &&
	    (r = posix_spawnattr_setsigmask(&at, &none)) == 0 &&
	    (r = posix_spawnattr_setsigdefault(&at, &dflt)) == 0 &&
	    (r = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)) == 0)
		r = posix_spawn(pid, prog.s, &fa, &at, argv, envp);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	return r;
}

static void request(const struct str *f)
{
	const char *fld[6];
	size_t fl[6];
	static struct str mess = STR_INIT;
	struct who w;
	const char *mode;
	const char *home;
	struct kid *k;
	int p[2], fd, r;
	size_t i;

	if (!ns_fields(f, fld, fl, 6))
		die(111, "fatal: malformed request from postern-send");
	if (spawn_check(fld, fl) != 0)
		die(111, "fatal: malformed request from postern-send: bad ", spawn_field_name(spawn_check(fld, fl)));
	for (i = 0; i < nkids; i++)
		if (strcmp(kids[i].job, fld[0]) == 0)
			die(111, "fatal: postern-send reused a running job id");
	if (nkids == KIDS_MAX) {
		replys(fld[0], 'Z', "too many deliveries at once");
		return;
	}
	switch (who_get(fld[2], &w)) {
	case 1: break;
	case 0: replys(fld[0], 'D', "no such user"); return;
	default:
		replys(fld[0], 'Z', errno == E2BIG ? "the user is in more groups than the kernel allows" :
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
		log_kvb(&l, "user", fld[2], fl[2]);
		log_kv(&l, "reason", "uid 0 or below minuid");
		log_end(&l);
		replys(fld[0], 'D', "delivery to this user is not allowed");
		return;
	}
	}
	if (!path_join(&mess, messdir.s, fld[1]))
		die_nomem();
	/* opened here, as root: the queue is not the recipient's to read */
	if ((fd = open(mess.s, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		replys(fld[0], 'Z', "unable to open the queued message");
		return;
	}
	if (pipe2(p, O_CLOEXEC) == -1) {
		close(fd);
		replys(fld[0], 'Z', "unable to create a pipe");
		return;
	}
	k = kids + nkids;
	r = spawn_local(&k->pid, &w, home, mode, fld[3], fld[4], fld[5], fld[1], fd, p[1]);
	close(fd);
	close(p[1]);
	if (r != 0) {
		close(p[0]);
		replys(fld[0], 'Z', "unable to run postern-local");
		return;
	}
	if (fcntl(p[0], F_SETFL, O_NONBLOCK) == -1)
		die_sys(111, "fatal: unable to set a pipe non-blocking");
	k->fd = p[0];
	memcpy(k->job, fld[0], fl[0] + 1);
	k->text = (struct str)STR_INIT;
	nkids++;
}

static void reap(void)
{
	for (;;) {
		int status;
		size_t i;
		pid_t pid = waitpid(-1, &status, WNOHANG);
		char st, text[TEXT_MAX + 64];
		size_t tl;
		if (pid <= 0)
			return;
		for (i = 0; i < nkids; i++)
			if (kids[i].pid == pid)
				break;
		if (i == nkids)
			continue;
		if (drain_bounded(&kids[i].fd, &kids[i].text, TEXT_MAX) == -1)
			die_nomem();
		if (kids[i].fd != -1)
			close(kids[i].fd); /* a grandchild may hold it open: we do not wait for it */
		tl = spawn_text(kids[i].text.s ? kids[i].text.s : "", kids[i].text.len, status, text, &st);
		reply(kids[i].job, st, text, tl);
		str_free(&kids[i].text);
		kids[i] = kids[--nkids];
	}
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
	if (chdir("/") == -1)
		die_sys(111, "fatal: unable to chdir to /");
	if ((sigfd = selfpipe_init(SELFPIPE_CHLD)) == -1)
		die_sys(111, "fatal: unable to catch signals");
	if (fcntl(0, F_SETFD, FD_CLOEXEC) == -1 || fcntl(1, F_SETFD, FD_CLOEXEC) == -1)
		die_sys(111, "fatal: missing the pipes from postern-start");
	io_init(&in, 0, inbuf, sizeof inbuf);

	while (input || nkids) {
		struct pollfd p[2 + KIDS_MAX];
		size_t n = 0, i;
		int r;

		if (selfpipe_term)
			input = 0; /* finish the deliveries that run, start none */
		p[n++] = (struct pollfd){ sigfd, POLLIN, 0 };
		if (input)
			p[n++] = (struct pollfd){ 0, POLLIN, 0 };
		for (i = 0; i < nkids; i++)
			if (kids[i].fd != -1)
				p[n++] = (struct pollfd){ kids[i].fd, POLLIN, 0 };
		r = poll(p, (nfds_t)n, -1);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			die_sys(111, "fatal: poll failed");
		}
		if (p[0].revents) {
			selfpipe_drain();
			reap();
		}
		for (i = 0; i < nkids; i++)
			if (drain_bounded(&kids[i].fd, &kids[i].text, TEXT_MAX) == -1)
				die_nomem();
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
			} while (io_buffered(&in));
		}
	}
	str_free(&f);
	return 0;
}
