/* The postern-pop3ds running: one slot each, for control/concurrencypop3
 * and control/concurrencypop3peruser, for control/timeoutpop3session, and
 * for the end line that says whose session ended and how. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include "pspawn.h"
#include "die.h"
#include "log.h"

static struct kid {
	pid_t pid;
	time_t since; /* CLOCK_MONOTONIC seconds */
	int killed;   /* SIGKILL sent: not to be sent, nor logged, twice */
	char user[USER_LEN_MAX + 1]; /* the login name, as the request had it */
} kids[KIDS_MAX];
static size_t nkids;

size_t kids_running(void) { return nkids; }

/* A scan of at most KIDS_MAX names, once a login: less than the getpwnam
 * that follows it. */
size_t kids_of(const char *user)
{
	size_t i, n = 0;

	for (i = 0; i < nkids; i++)
		n += strcmp(kids[i].user, user) == 0;
	return n;
}

void kids_add(pid_t pid, const struct account *a, const struct request *req)
{
	struct logline l = { STR_INIT };
	struct kid *k = kids + nkids++;

	k->pid = pid;
	k->since = seconds_now();
	k->killed = 0;
	/* record_parse checked it fits */
	memcpy(k->user, req->user, strlen(req->user) + 1);
	log_begin(&l, "start");
	log_kv(&l, "user", a->name);
	log_kvu(&l, "uid", (unsigned long long)a->uid);
	log_kv(&l, "ip", req->ip);
	log_kvu(&l, "pid", (unsigned long long)pid);
	log_end(&l);
}

/* status=exit:N or status=signal:N */
static void log_status(struct logline *l, int status)
{
	static struct str s;
	int sig = WIFSIGNALED(status);

	if (!str_copys(&s, sig ? "signal:" : "exit:") ||
	    !str_catu(&s, (unsigned long long)(sig ? WTERMSIG(status) : WEXITSTATUS(status))))
		die_nomem();
	log_kv(l, "status", s.s);
}

void kids_reap(void)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		struct logline l = { STR_INIT };
		size_t i;

		for (i = 0; i < nkids && kids[i].pid != pid; i++) {}
		if (i == nkids)
			continue; /* not one of ours: there are no others */
		log_begin(&l, "end");
		log_kv(&l, "user", kids[i].user);
		log_kvu(&l, "pid", (unsigned long long)pid);
		log_status(&l, status);
		log_kvu(&l, "seconds", (unsigned long long)(seconds_now() - kids[i].since));
		log_end(&l);
		kids[i] = kids[--nkids];
	}
	if (pid == -1 && errno != ECHILD && errno != EINTR)
		warn_sys("warning: waitpid failed");
}

/* SIGKILL, not SIGTERM: the user a session runs as may have stopped it,
 * and a stopped process takes no other signal until it is continued;
 * root's SIGKILL ends it where it stands.  The pid is a child not yet
 * reaped, so it cannot have passed to another process.  What the session
 * had not committed (DELE before QUIT) is lost, as after a dropped
 * connection (RFC 1939). */
long long kids_expire(unsigned long long lifetime)
{
	time_t now = seconds_now();
	long long next = -1;
	size_t i;

	for (i = 0; i < nkids; i++) {
		struct kid *k = kids + i;
		unsigned long long age = (unsigned long long)(now - k->since);
		struct logline l = { STR_INIT };

		if (k->killed)
			continue;
		if (age < lifetime) {
			if (next == -1 || lifetime - age < (unsigned long long)next)
				next = (long long)(lifetime - age);
			continue;
		}
		if (kill(k->pid, SIGKILL) == -1)
			warn_sys("warning: unable to kill a session that outlived control/timeoutpop3session");
		k->killed = 1;
		log_begin(&l, "killed");
		log_kv(&l, "user", k->user);
		log_kvu(&l, "pid", (unsigned long long)k->pid);
		log_kvu(&l, "seconds", age);
		log_end(&l);
	}
	return next;
}
