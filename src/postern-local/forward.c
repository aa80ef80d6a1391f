#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "forward.h"
#include "copy.h"
#include "io.h"
#include "log.h"

int forward_inject(const char *queue, const char *dt, size_t dtlen, int msgfd,
                   const struct str *env, struct str *why)
{
	int pm[2], pe[2], st, wr;
	pid_t pid;

	why->len = 0;
	if (pipe2(pm, O_CLOEXEC) == -1) {
		str_copys(why, "4.3.0 unable to create a pipe for forwarding");
		return 111;
	}
	if (pipe2(pe, O_CLOEXEC) == -1) {
		close(pm[0]);
		close(pm[1]);
		str_copys(why, "4.3.0 unable to create a pipe for forwarding");
		return 111;
	}
	log_flush(); /* the child must not inherit held lines and write them again */
	pid = fork();
	if (pid == -1) {
		close(pm[0]); close(pm[1]); close(pe[0]); close(pe[1]);
		str_copys(why, "4.3.0 unable to fork for forwarding");
		return 111;
	}
	if (pid == 0) {
		char *argv[2] = { (char *)"postern-queue", 0 };
		char *envp[1] = { 0 };
		if (dup2(pm[0], 0) == -1 || dup2(pe[0], 1) == -1 || signal(SIGPIPE, SIG_DFL) == SIG_ERR)
			_exit(120);
		execve(queue, argv, envp);
		_exit(120);
	}
	close(pm[0]);
	close(pe[0]);
	/* qmail-queue's order: the whole message, then the envelope */
	wr = copy_message(pm[1], dt, dtlen, msgfd, 0);
	close(pm[1]);
	if (wr == 0 && write_all(pe[1], env->s, env->len) == -1)
		wr = -1;
	close(pe[1]);
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR) {
			str_copys(why, "4.3.0 lost track of postern-queue");
			return 111;
		}
	if (wr == -2) {
		str_copys(why, "4.3.0 unable to read the message for forwarding");
		return 111;
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0 && wr == 0)
		return 0;
	if (WIFEXITED(st)) {
		int x = WEXITSTATUS(st);
		if (x == 11 || x == 31 || x == 91) {
			(void)(str_cats(why, "5.3.0 postern-queue refused the forward, exit ") && str_catu(why, (unsigned long long)x));
			return 100;
		}
		if (x == 120)
			(void)(str_cats(why, "4.3.0 unable to run ") && str_cats(why, queue));
		else
			(void)(str_cats(why, "4.3.0 postern-queue failed to queue the forward, exit ") &&
			       str_catu(why, (unsigned long long)x));
		return 111;
	}
	(void)(str_cats(why, "4.3.0 postern-queue killed by signal ") &&
	       str_catu(why, (unsigned long long)(WIFSIGNALED(st) ? WTERMSIG(st) : 0)));
	return 111;
}
