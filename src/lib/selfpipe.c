#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include "selfpipe.h"

volatile sig_atomic_t selfpipe_term, selfpipe_hup, selfpipe_alrm;
static int fds[2] = { -1, -1 };

static void on_signal(int sig)
{
	int e = errno;
	char c = (char)sig;
	if (sig == SIGTERM || sig == SIGINT)
		selfpipe_term = 1;
	else if (sig == SIGHUP)
		selfpipe_hup = 1;
	else if (sig == SIGALRM)
		selfpipe_alrm = 1;
	(void)!write(fds[1], &c, 1);
	errno = e;
}

int selfpipe_init(int which)
{
	struct sigaction sa;

	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) == -1)
		return -1;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_NOCLDSTOP;
	if (sigaction(SIGTERM, &sa, 0) == -1 || sigaction(SIGINT, &sa, 0) == -1)
		return -1;
	if ((which & SELFPIPE_CHLD) && sigaction(SIGCHLD, &sa, 0) == -1)
		return -1;
	if ((which & SELFPIPE_HUP) && sigaction(SIGHUP, &sa, 0) == -1)
		return -1;
	if ((which & SELFPIPE_ALRM) && sigaction(SIGALRM, &sa, 0) == -1)
		return -1;
	sa.sa_handler = SIG_IGN;
	sa.sa_flags = 0;
	if (sigaction(SIGPIPE, &sa, 0) == -1)
		return -1;
	return fds[0];
}

void selfpipe_drain(void)
{
	char b[64];
	while (read(fds[0], b, sizeof b) > 0) {}
}
