#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "program.h"
#include "fmt.h"
#include "io.h"
#include "log.h"
#include "seconds.h"

/* after the program's exit, how long its output pipe is still read */
#define EXIT_DRAIN_MS 1000

int program_status(int x)
{
	switch (x) {
	case 0: return 0;
	case 99: return 99;
	case 100: case 64: case 65: case 70: case 76: case 77: case 78: case 112: return 100;
	default: return 111;
	}
}

void text_flatten(struct str *t)
{
	size_t i;
	while (t->len && (t->s[t->len - 1] == '\n' || t->s[t->len - 1] == '\r'))
		t->len--;
	for (i = 0; i < t->len; i++) {
		unsigned char c = (unsigned char)t->s[i];
		if (c == '\n')
			t->s[i] = '/';
		else if (c < 0x20 || c == 0x7f)
			t->s[i] = '?';
	}
	if (t->s)
		t->s[t->len] = 0;
}

/* "4.3.0 what: " unless the program already gave a code of the right class. */
static int say(struct str *why, int r, const char *what, const struct str *out)
{
	struct str t = STR_INIT;
	char cls = r == 100 ? '5' : r == 111 ? '4' : '2';
	int coded = out->len >= 6 && out->s[0] == cls && out->s[1] == '.' && out->s[2] >= '0' && out->s[2] <= '9';

	why->len = 0;
	if (!coded) {
		(void)(str_cats(&t, r == 100 ? "5.3.0 " : r == 111 ? "4.3.0 " : "2.0.0 ") && str_cats(&t, what));
		if (out->len)
			(void)str_cats(&t, ": ");
	}
	(void)str_catb(&t, out->s ? out->s : "", out->len);
	(void)str_copyb(why, t.s ? t.s : "", t.len);
	str_free(&t);
	return r;
}

static void child(int in, int out, const char *cmd, char *const envp[])
{
	char *argv[4];

	argv[0] = (char *)"sh";
	argv[1] = (char *)"-c";
	argv[2] = (char *)cmd;
	argv[3] = 0;
	/* its own group, so a timeout kills everything it started */
	(void)setpgid(0, 0);
	if (dup2(in, 0) == -1 || dup2(out, 1) == -1 || dup2(out, 2) == -1 || signal(SIGPIPE, SIG_DFL) == SIG_ERR)
		_exit(111);
	execve("/bin/sh", argv, envp);
	(void)!write(2, "unable to run /bin/sh\n", 22);
	_exit(111);
}

int program_deliver(const char *cmd, size_t cmdlen, char *const envp[],
                    const char *pre, size_t prelen, int msgfd,
                    unsigned long long timeout, struct str *why)
{
	struct str c = STR_INIT, out = STR_INIT;
	char buf[65536];
	size_t bufpos = 0, buflen = 0;
	off_t off = 0;
	int pin[2], pout[2], st = 0, r, exited = 0, msgdone = 0, readerr = 0;
	long long deadline;
	pid_t pid;

	why->len = 0;
	if (!str_copyb(&c, cmd, cmdlen) || !str_ready(&out, PROGRAM_TEXT_MAX + 1)) {
		str_copys(why, "4.3.0 out of memory");
		str_free(&c);
		return 111;
	}
	if (pipe2(pin, O_CLOEXEC) == -1) {
		str_free(&c);
		str_copys(why, "4.3.0 unable to create a pipe");
		return 111;
	}
	if (pipe2(pout, O_CLOEXEC) == -1) {
		close(pin[0]);
		close(pin[1]);
		str_free(&c);
		str_copys(why, "4.3.0 unable to create a pipe");
		return 111;
	}
	log_flush(); /* the child must not inherit held lines and write them again */
	pid = fork();
	if (pid == -1) {
		close(pin[0]); close(pin[1]); close(pout[0]); close(pout[1]);
		str_free(&c);
		str_copys(why, "4.3.0 unable to fork");
		return 111;
	}
	if (pid == 0)
		child(pin[0], pout[1], c.s, envp);
	(void)setpgid(pid, pid); /* also here, so the group exists before any kill */
	close(pin[0]);
	close(pout[1]);
	str_free(&c);
	if (fcntl(pin[1], F_SETFL, O_NONBLOCK) == -1 || fcntl(pout[0], F_SETFL, O_NONBLOCK) == -1) {
		msgdone = 1; /* cannot happen on a fresh pipe; fall through to the kill */
		deadline = 0;
	} else
		deadline = monotonic_ms() + (long long)timeout * 1000;
	memcpy(buf, pre, prelen < sizeof buf ? prelen : sizeof buf);
	buflen = prelen < sizeof buf ? prelen : sizeof buf; /* trace lines are short */

	while (pout[0] != -1 || pin[1] != -1 || !exited) {
		struct pollfd p[2];
		nfds_t np = 0;
		long long left = deadline - monotonic_ms();
		int wait_ms;

		if (left <= 0) {
			if (exited) {
				/* it ended in time; only what it left behind still writes */
				if (pin[1] != -1) close(pin[1]);
				if (pout[0] != -1) close(pout[0]);
				break;
			}
			(void)kill(-pid, SIGKILL);
			(void)kill(pid, SIGKILL);
			while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
				;
			if (pin[1] != -1) close(pin[1]);
			if (pout[0] != -1) close(pout[0]);
			str_free(&out);
			why->len = 0;
			(void)(str_cats(why, "4.3.0 program timed out after ") && str_catu(why, timeout) &&
			       str_cats(why, " seconds"));
			return 111;
		}
		if (!exited) {
			pid_t w = waitpid(pid, &st, WNOHANG);
			if (w == pid) {
				exited = 1;
				/* what it wrote before its exit is in the pipe by now;
				 * a process it left that keeps the pipe full is read for
				 * this long at most, and its exit status is the result */
				if (deadline > monotonic_ms() + EXIT_DRAIN_MS)
					deadline = monotonic_ms() + EXIT_DRAIN_MS;
			}
		}
		if (exited && pin[1] != -1) {
			close(pin[1]);
			pin[1] = -1;
		}
		/* refill the message buffer */
		if (pin[1] != -1 && bufpos == buflen && !msgdone) {
			ssize_t n;
			do
				n = pread(msgfd, buf, sizeof buf, off);
			while (n == -1 && errno == EINTR);
			if (n <= 0) {
				if (n == -1)
					readerr = 1;
				msgdone = 1;
			} else {
				off += n;
				bufpos = 0;
				buflen = (size_t)n;
			}
		}
		if (pin[1] != -1 && bufpos == buflen && msgdone) {
			close(pin[1]); /* EOF for the program */
			pin[1] = -1;
			if (readerr) {
				deadline = 0; /* kill it: it saw a truncated message */
				continue;
			}
		}
		if (pin[1] != -1) {
			p[np].fd = pin[1];
			p[np].events = POLLOUT;
			p[np++].revents = 0;
		}
		if (pout[0] != -1) {
			p[np].fd = pout[0];
			p[np].events = POLLIN;
			p[np++].revents = 0;
		}
		wait_ms = left > 100 ? 100 : (int)left;
		if (np == 0) {
			/* only the exit is left to wait for */
			struct timespec ts = { 0, 10 * 1000000L };
			nanosleep(&ts, 0);
			continue;
		}
		if (poll(p, np, exited ? 0 : wait_ms) == -1 && errno != EINTR)
			continue;
		if (pin[1] != -1 && bufpos < buflen) {
			ssize_t w = write(pin[1], buf + bufpos, buflen - bufpos);
			if (w > 0)
				bufpos += (size_t)w;
			else if (w == -1 && errno != EAGAIN && errno != EINTR) {
				/* EPIPE: the program does not want the rest; that is its choice */
				close(pin[1]);
				pin[1] = -1;
			}
		}
		if (pout[0] != -1) {
			char tmp[4096];
			ssize_t n = read(pout[0], tmp, sizeof tmp);
			if (n > 0) {
				size_t keep = (size_t)n;
				if (out.len + keep > PROGRAM_TEXT_MAX)
					keep = PROGRAM_TEXT_MAX - out.len;
				if (keep)
					(void)str_catb(&out, tmp, keep);
			} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
				close(pout[0]);
				pout[0] = -1;
			} else if (exited) {
				/* the program is gone; whatever it left running may keep
				 * the pipe open, but we need not wait for that */
				close(pout[0]);
				pout[0] = -1;
			}
		}
	}
	text_flatten(&out);
	if (readerr) {
		str_free(&out);
		str_copys(why, "4.3.0 unable to read the message");
		return 111;
	}
	if (WIFSIGNALED(st)) {
		char num[FMT_ULONG];
		num[fmt_ulong(num, (unsigned long long)WTERMSIG(st))] = 0;
		why->len = 0;
		(void)(str_cats(why, "4.3.0 program killed by signal ") && str_cats(why, num));
		str_free(&out);
		return 111;
	}
	r = program_status(WEXITSTATUS(st));
	{
		char num[FMT_ULONG + 20];
		size_t k;
		memcpy(num, "program exited ", 15);
		k = 15 + fmt_ulong(num + 15, (unsigned long long)WEXITSTATUS(st));
		num[k] = 0;
		say(why, r == 99 ? 0 : r, num, &out);
	}
	str_free(&out);
	return r;
}
