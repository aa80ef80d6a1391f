#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include "inject.h"
#include "die.h"
#include "home.h"
#include "control.h"
#include "conf.h"

/* Local mail is signed when control/dkimdomains names a key and
 * control/dkimlocal (default 0) is 1 (doc/dkim.md), and not for postern's
 * own users (postern-alias's or postern-vmail's program deliveries), whom
 * postern-dkim never serves: their mail would wait for a signature that
 * cannot come. */
static int dkim_wanted(void)
{
	struct str list = STR_INIT;
	unsigned long long local;
	uid_t me = getuid();
	size_t i;
	int r;

	if (control_num("dkimlocal", &local, 0) == -1)
		die_sys(111, "fatal: unable to read control/dkimlocal");
	if (local != 1)
		return 0;
	if ((r = control_lines("dkimdomains", &list)) == -1)
		die_sys(111, "fatal: unable to read control/dkimdomains");
	str_free(&list);
	if (r != 1)
		return 0;
	for (i = 0; i < USER_COUNT; i++) {
		struct passwd *pw;
		if (i == USER_SUBMIT)
			continue;
		pw = getpwnam(conf_users[i]);
		if (pw && pw->pw_uid == me)
			return 0;
	}
	return 1;
}

const char *qq_meaning(int code, int *permanent)
{
	*permanent = 0;
	switch (code) {
	case 11: *permanent = 1; return "address too long";
	case 31: *permanent = 1; return "mail server permanently refuses to send the message";
	case 51: return "out of memory";
	case 52: return "timeout";
	case 53: return "write error or disk full";
	case 54: return "unable to read the message or envelope";
	case 55: return "unable to read the configuration";
	case 56: return "network problem";
	case 61: return "problem with the home directory";
	case 62: return "problem with the queue directory";
	case 63: return "problem with the trigger";
	case 74: return "unable to sign the message (DKIM: postern-dkim)";
	case 71: case 72: case 73: case 75: return "mail server temporarily refuses the message";
	case 81: return "internal bug";
	case 91: *permanent = 1; return "envelope format error";
	default: return "temporary failure";
	}
}

static int put(struct io *out, int *broken, const char *b, size_t n)
{
	if (*broken)
		return 0;
	if (io_put(out, b, n) == -1) {
		*broken = 1; /* postern-queue is gone; its exit code says why */
		return 0;
	}
	return 1;
}

int qq_run(const struct str *head, const struct str *firstbody, int eof, struct io *in,
           int dotstop, const struct str *env)
{
	static char obuf[65536];
	struct str qq = STR_INIT, line = STR_INIT;
	struct io out;
	int mp[2], ep[2], status, broken = 0, readerr = 0;
	pid_t pid;

	if (!home_path(&qq, dkim_wanted() ? "bin/postern-dkimsign" : "bin/postern-queue"))
		die_nomem();
	if (pipe2(mp, O_CLOEXEC) == -1 || pipe2(ep, O_CLOEXEC) == -1)
		die_sys(111, "fatal: unable to create pipes");
	pid = fork();
	if (pid == -1)
		die_sys(111, "fatal: unable to fork");
	if (pid == 0) {
		char *argv[] = { (char *)"postern-queue", 0 };
		/* postern-dkimsign speaks postern-queue's interface and becomes it */
		if (dup2(mp[0], 0) == -1 || dup2(ep[0], 1) == -1)
			die_sys(120, "fatal: unable to set up postern-queue's descriptors");
		execv(qq.s, argv);
		die_sys(120, "fatal: unable to run ", qq.s);
	}
	close(mp[0]);
	close(ep[0]);
	io_init(&out, mp[1], obuf, sizeof obuf);
	put(&out, &broken, head->s, head->len);
	put(&out, &broken, "\n", 1);
	if (firstbody->len)
		put(&out, &broken, firstbody->s, firstbody->len);
	while (!eof && !broken) {
		int r = line_get(in, &line);
		if (r == -1) {
			readerr = errno;
			break;
		}
		if (r == 0)
			break;
		if (r == 1 && dotstop && line_is_dot(&line))
			break;
		put(&out, &broken, line.s, line.len);
	}
	if (!broken && io_flush(&out) == -1)
		broken = 1;
	close(mp[1]);
	/* Without an envelope postern-queue exits 54 and removes its files:
	 * that is how a message we could not read whole is never queued. */
	if (!readerr && write_all(ep[1], env->s, env->len) == -1 && errno != EPIPE)
		warn_sys("warning: unable to write the envelope");
	close(ep[1]);
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			die_sys(111, "fatal: unable to wait for postern-queue");
	str_free(&qq);
	str_free(&line);
	if (readerr) {
		errno = readerr;
		die_sys(111, "fatal: unable to read the message");
	}
	if (WIFSIGNALED(status))
		return 111;
	return WEXITSTATUS(status);
}
