/* The qmail-queue filter's plumbing: see qqfilter.h. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include "qqfilter.h"
#include "control.h"
#include "die.h"
#include "home.h"
#include "log.h"
#include "str.h"

#define TRACE_ALLOWANCE 65536 /* as postern-queue's: headers added on the way */

extern char **environ;

static void on_alarm(int sig)
{
	(void)sig;
	_exit(QF_TIMEOUT);
}

void qf_start(unsigned long long seconds, unsigned long long *databytes)
{
	sigset_t alrm;

	sigemptyset(&alrm);
	sigaddset(&alrm, SIGALRM);
	if (signal(SIGALRM, on_alarm) == SIG_ERR || sigprocmask(SIG_UNBLOCK, &alrm, 0) == -1)
		die_sys(QF_BUG, "fatal: unable to set up SIGALRM");
	alarm((unsigned)seconds);
	if (control_num("databytes", databytes, 0) == -1)
		die_sys(QF_CONFIG, "fatal: unable to read control/databytes");
	/* postern-queue streams to disk whatever size it is given; we hold
	 * the message in memory, so without databytes a bound of our own */
	if (*databytes == 0 || *databytes > QF_HELD_MAX)
		*databytes = QF_HELD_MAX;
}

int qf_hold(const char *name, unsigned long long databytes, size_t *len)
{
	static char buf[65536];
	unsigned long long total = 0;
	int memfd = memfd_create(name, MFD_CLOEXEC);

	if (memfd == -1)
		die_sys(QF_NOMEM, "fatal: unable to make room for the message");
	for (;;) {
		ssize_t r = read(0, buf, sizeof buf), w;
		size_t done = 0;
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			die_sys(QF_READ, "fatal: unable to read the message");
		if (r == 0)
			break;
		total += (unsigned long long)r;
		if (total > databytes + TRACE_ALLOWANCE)
			die(QF_REFUSE, "fatal: message too large for control/databytes");
		while (done < (size_t)r) {
			w = pwrite(memfd, buf + done, (size_t)r - done, (off_t)(QF_RESERVE + total - (unsigned long long)r + done));
			if (w == -1 && errno == EINTR)
				continue;
			if (w == -1)
				die_sys(errno == ENOMEM || errno == ENOSPC ? QF_NOMEM : QF_READ, "fatal: unable to hold the message");
			done += (size_t)w;
		}
	}
	*len = (size_t)total;
	return memfd;
}

const char *qf_map(int memfd, size_t len)
{
	void *m;

	if (!len)
		return 0;
	if ((m = mmap(0, len, PROT_READ, MAP_PRIVATE, memfd, QF_RESERVE)) == MAP_FAILED)
		die_sys(QF_NOMEM, "fatal: unable to map the message");
	return m;
}

void qf_unmap(const char *msg, size_t len)
{
	if (msg && munmap((void *)msg, len) == -1)
		die_sys(QF_BUG, "fatal: unable to unmap the message");
}

/* A socket at its end reads 0 bytes; a pipe at its end polls as a
 * hang-up without input.  The alarm bounds the wait. */
void qf_envelope_coming(void)
{
	struct pollfd p = { 1, POLLIN, 0 };
	char c;
	ssize_t r;
	int n;

	do
		n = poll(&p, 1, -1);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		die_sys(QF_READ, "fatal: unable to wait for the envelope");
	if (!(p.revents & POLLIN))
		_exit(QF_READ);
	do
		r = recv(1, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	while (r == -1 && errno == EINTR);
	if (r == 0)
		_exit(QF_READ);
}

_Noreturn void qf_queue(int memfd, off_t start)
{
	struct str path = STR_INIT;
	char *argv[2] = { (char *)"postern-queue", 0 };
	char *envp[2] = { 0, 0 };
	char *const *e;

	alarm(0);
	if (signal(SIGALRM, SIG_DFL) == SIG_ERR)
		die_sys(QF_BUG, "fatal: unable to restore SIGALRM");
	if (lseek(memfd, start, SEEK_SET) == -1 || dup2(memfd, 0) == -1)
		die_sys(QF_BUG, "fatal: unable to hand the message on");
	close(memfd);
	if (!home_path(&path, "bin/postern-queue"))
		die(QF_NOMEM, "fatal: out of memory");
	for (e = environ; *e; e++)
		if (!strncmp(*e, "POSTERN_HOME=", 13))
			envp[0] = *e;
	log_flush();
	execve(path.s, argv, envp);
	die_sys(QF_BUG, "fatal: unable to run ", path.s);
}
