/* Starting one postern-tlsio with the request's descriptors at the numbers
 * doc/tls.md gives it, and -c POLICY NAME for a client request, followed
 * by its TLSA records for policy d.  The descriptors arrived at whatever
 * numbers were free, which may be the very numbers they must end at (3,
 * 4, 5): they are first moved above those, so that no dup2 of the spawn
 * overwrites a descriptor a later one still needs. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <unistd.h>
#include "tlsd.h"
#include "die.h"

#define MOVED_ABOVE 10

extern char **environ;

static const int target[REQUEST_FDS] = { 3, 4, 5, 0, 1 }; /* net in, net out, ctl, app in, app out */

static void close_all(int fds[REQUEST_FDS])
{
	int i;
	for (i = 0; i < REQUEST_FDS; i++)
		if (fds[i] != -1) {
			(void)close(fds[i]);
			fds[i] = -1;
		}
}

pid_t engine_start(const char *path, struct request *req)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, all;
	int *fds = req->fds;
	char policy[2] = { req->policy, 0 };
	char *server[] = { (char *)"postern-tlsio", 0 };
	/* postern-tlsio -c POLICY NAME, the records, the terminating 0 */
	char *client[4 + TLSA_RECORDS_MAX + 1] = { (char *)"postern-tlsio", (char *)"-c", policy, req->name };
	char **argv = req->mode == 'C' ? client : server;
	pid_t pid = -1;
	int i, r = 0, high;
	size_t k;

	/* request.c took at most TLSA_RECORDS_MAX, and none but for d */
	for (k = 0; k < req->ntlsa && k < TLSA_RECORDS_MAX; k++)
		client[4 + k] = req->tlsa[k];

	for (i = 0; i < REQUEST_FDS; i++) {
		high = fcntl(fds[i], F_DUPFD_CLOEXEC, MOVED_ABOVE);
		if (high == -1) {
			warn_sys("warning: unable to move a descriptor");
			close_all(fds);
			return -1;
		}
		(void)close(fds[i]);
		fds[i] = high;
	}
	sigemptyset(&none);
	sigfillset(&all);
	if ((r = posix_spawn_file_actions_init(&fa)) != 0)
		goto out_fds;
	if ((r = posix_spawnattr_init(&at)) != 0)
		goto out_fa;
	for (i = 0; i < REQUEST_FDS && r == 0; i++)
		r = posix_spawn_file_actions_adddup2(&fa, fds[i], target[i]);
	if (r == 0 && (r = posix_spawnattr_setsigmask(&at, &none)) == 0 &&
	    (r = posix_spawnattr_setsigdefault(&at, &all)) == 0 &&
	    (r = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)) == 0)
		r = posix_spawn(&pid, path, &fa, &at, argv, environ);
	posix_spawnattr_destroy(&at);
out_fa:
	posix_spawn_file_actions_destroy(&fa);
out_fds:
	close_all(fds);
	if (r != 0) {
		errno = r;
		warn_sys("warning: unable to start ", path);
		return -1;
	}
	return pid;
}
