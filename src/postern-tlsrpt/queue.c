/* A report into the queue: postern-queue (qmail-queue's interface: the
 * message on fd 0, the envelope on fd 1), with the null sender, so that a
 * report that cannot be delivered is dropped, never bounced (RFC 8460
 * 5.3 asks nothing more; RFC 3464 forbids bouncing a bounce's kin). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "reporter.h"
#include "die.h"
#include "home.h"
#include "io.h"
#include "log.h"

int queue_report(const struct str *msg, const struct str *to, size_t nto)
{
	static struct str queue = STR_INIT;
	struct str env = STR_INIT;
	const char *a;
	int mp[2], ep[2], status;
	size_t i;
	pid_t pid;

	if (!queue.len && !home_path(&queue, "bin/postern-queue"))
		die_nomem();
	if (!str_catc(&env, 'F') || !str_catz(&env))
		die_nomem();
	for (i = 0, a = to->s; i < nto; i++, a += strlen(a) + 1)
		if (!str_catc(&env, 'T') || !str_cats(&env, a) || !str_catz(&env))
			die_nomem();
	if (!str_catz(&env))
		die_nomem();
	if (pipe2(mp, O_CLOEXEC) == -1) {
		warn_sys("warning: unable to create a pipe");
		str_free(&env);
		return -1;
	}
	if (pipe2(ep, O_CLOEXEC) == -1) {
		warn_sys("warning: unable to create a pipe");
		close(mp[0]);
		close(mp[1]);
		str_free(&env);
		return -1;
	}
	log_flush();
	pid = fork();
	if (pid == -1) {
		warn_sys("warning: unable to fork");
		close(mp[0]); close(mp[1]); close(ep[0]); close(ep[1]);
		str_free(&env);
		return -1;
	}
	if (pid == 0) {
		char *argv[] = { (char *)"postern-queue", 0 };
		if (dup2(mp[0], 0) == -1 || dup2(ep[0], 1) == -1)
			die_sys(111, "fatal: unable to set up postern-queue's fds");
		if (signal(SIGPIPE, SIG_DFL) == SIG_ERR)
			die_sys(111, "fatal: unable to reset SIGPIPE for postern-queue");
		execv(queue.s, argv);
		die_sys(111, "fatal: unable to run ", queue.s);
	}
	close(mp[0]);
	close(ep[0]);
	/* postern-queue reads the whole message before the envelope, so this
	 * order cannot deadlock; one that dies early gives EPIPE here, and
	 * its exit code says why */
	if (write_all(mp[1], msg->s, msg->len) == 0) {
		close(mp[1]);
		(void)write_all(ep[1], env.s, env.len);
	} else
		close(mp[1]);
	close(ep[1]);
	str_free(&env);
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			return -1;
	if (!WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}
