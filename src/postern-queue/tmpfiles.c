#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include "queue.h"
#include "die.h"
#include "uniq.h"

/* Fixed buffers, not struct str: the SIGALRM handler reads them, and a
 * signal handler may not touch the heap. */
static char path[TF_COUNT][QID_MAX + 16];
static volatile sig_atomic_t exists[TF_COUNT];

void tmpfiles_name(const char *id)
{
	static const char *const pre[TF_COUNT] = { "tmp/", "mess/", "mess/" };
	static const char *const suf[TF_COUNT] = { ".env", "", ".env" };
	size_t n = strlen(id), i;

	if (n > QID_MAX)
		die(QQ_BUG, "fatal: internal bug: queue id too long");
	for (i = 0; i < TF_COUNT; i++) {
		size_t a = strlen(pre[i]), b = strlen(suf[i]);
		memcpy(path[i], pre[i], a);
		memcpy(path[i] + a, id, n);
		memcpy(path[i] + a + n, suf[i], b + 1);
	}
}

const char *tmpfiles_path(int which) { return path[which]; }
void tmpfiles_mark(int which, int e) { exists[which] = e; }

void tmpfiles_remove(void)
{
	int saved = errno;
	/* the envelope first: without it, mess/ID is never delivered */
	if (exists[TF_ENV] && unlink(path[TF_ENV]) == 0)
		exists[TF_ENV] = 0;
	if (exists[TF_MESS] && unlink(path[TF_MESS]) == 0)
		exists[TF_MESS] = 0;
	if (exists[TF_ENV_TMP] && unlink(path[TF_ENV_TMP]) == 0)
		exists[TF_ENV_TMP] = 0;
	errno = saved;
}

_Noreturn void fail(int code, int with_errno, const char *a, const char *b)
{
	int saved = errno;
	tmpfiles_remove();
	errno = saved;
	die_(code, with_errno, a, b, (const char *)0);
}

static void on_alarm(int sig)
{
	static const char msg[] = "postern-queue: fatal: timeout reading message or envelope\n";
	(void)sig;
	tmpfiles_remove();
	(void)!write(2, msg, sizeof msg - 1);
	_exit(QQ_TIMEOUT);
}

/* The caller chose our signal mask (it survives the exec of a setuid
 * program): a SIGALRM it blocked would never end a postern-queue that waits
 * for the rest of its envelope for days, while postern-clean's sweep took
 * its message file (36 h) from under it, and an envelope without data would
 * then be committed. */
static int alarm_mask(int how)
{
	sigset_t alrm;

	sigemptyset(&alrm);
	sigaddset(&alrm, SIGALRM);
	return sigprocmask(how, &alrm, 0);
}

void timeout_arm(unsigned seconds)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGALRM, &sa, 0) == -1 || alarm_mask(SIG_UNBLOCK) == -1)
		die_sys(QQ_BUG, "fatal: unable to set SIGALRM handler");
	alarm(seconds);
}

/* From the commit on, what exists is decided by the code alone: a SIGALRM
 * (the caller may send one: we run under its real uid) that ran the handler
 * between a rename and the mark after it would remove the message file of a
 * committed envelope.  A blocked one stays pending until the exit. */
void timeout_disarm(void)
{
	alarm(0);
	if (alarm_mask(SIG_BLOCK) == -1)
		fail(QQ_BUG, 1, "fatal: unable to block SIGALRM", "");
}
