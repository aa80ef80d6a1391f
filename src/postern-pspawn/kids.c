/* The postern-pop3ds running: one slot each, for control/concurrencypop3
 * and for the end line that says whose session ended and how. */
#include <errno.h>
#include <string.h>
#include <sys/wait.h>
#include "pspawn.h"
#include "die.h"
#include "log.h"

static struct kid {
	pid_t pid;
	time_t since; /* CLOCK_MONOTONIC seconds */
	char user[USER_LEN_MAX + 1];
} kids[KIDS_MAX];
static size_t nkids;

size_t kids_running(void) { return nkids; }

void kids_add(pid_t pid, const struct account *a, const struct request *req)
{
	struct logline l = { STR_INIT };
	struct kid *k = kids + nkids++;

	k->pid = pid;
	k->since = seconds_now();
	/* account_get checked it has the form of USER: it fits */
	memcpy(k->user, a->name, strlen(a->name) + 1);
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
