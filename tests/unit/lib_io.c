/* src/lib/io.c's timeouts and deadlines against a peer that is never
 * silent for long but never done: a child on the other end of a socket
 * pair trickles bytes in (or takes them out) every 20 ms.  The per-wait
 * timeout (10 s) cannot fire within the checks' bounds (5 s), so an
 * ETIMEDOUT there is the deadline's; the bounds are loose on purpose, for a
 * loaded machine. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "check.h"
#include "io.h"

static long long ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void pause_20ms(void)
{
	struct timespec t = { 0, 20 * 1000 * 1000 };
	nanosleep(&t, 0);
}

/* A child that writes one byte every 20 ms (no newline) until killed. */
static pid_t trickler(int fd)
{
	pid_t p = fork();
	if (p == 0) {
		for (;;) {
			if (write(fd, "x", 1) != 1)
				_exit(0);
			pause_20ms();
		}
	}
	return p;
}

/* A child that reads 4 KB every 20 ms until killed or EOF. */
static pid_t slow_reader(int fd)
{
	pid_t p = fork();
	if (p == 0) {
		char b[4096];
		for (;;) {
			if (read(fd, b, sizeof b) <= 0)
				_exit(0);
			pause_20ms();
		}
	}
	return p;
}

static void end_child(pid_t p)
{
	kill(p, SIGKILL);
	waitpid(p, 0, 0);
}

int main(void)
{
	static char big[4 << 20];
	char ibuf[4096], obuf[16384];
	struct io in, out;
	struct str line = STR_INIT;
	int sv[2], r;
	long long t0, took;
	pid_t kid;

	signal(SIGPIPE, SIG_IGN);

	/* a read: bytes keep coming, the line never ends */
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "a socket pair");
	kid = trickler(sv[1]);
	io_init(&in, sv[0], ibuf, sizeof ibuf);
	in.timeout_ms = 10000;
	io_deadline(&in, 300);
	t0 = ms();
	errno = 0;
	r = io_getline(&in, &line, '\n', 100000);
	took = ms() - t0;
	CHECK(r == -1 && errno == ETIMEDOUT, "a line trickled a byte every 20 ms: ETIMEDOUT at the deadline");
	CHECK(took >= 250 && took < 5000, "after the deadline's 300 ms, not never");
	CHECK(line.len > 3, "what came before the deadline was read");

	/* without a deadline the same reader goes on: only the timeout bounds it */
	io_deadline(&in, 0);
	line.len = 0;
	t0 = ms();
	while (ms() - t0 < 400 && (r = io_fill(&in)) > 0)
		in.pos = in.len;
	CHECK(r > 0, "no deadline: 400 ms of trickle read without a timeout");
	end_child(kid);
	close(sv[0]);
	close(sv[1]);

	/* a write: the peer takes 4 KB every 20 ms, 4 MB would take 20 s */
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "another socket pair");
	kid = slow_reader(sv[1]);
	io_init(&out, sv[0], obuf, sizeof obuf);
	out.timeout_ms = 10000;
	io_deadline(&out, 300);
	memset(big, 'y', sizeof big);
	t0 = ms();
	errno = 0;
	r = io_put(&out, big, sizeof big);
	if (r == 0)
		r = io_flush(&out);
	took = ms() - t0;
	CHECK(r == -1 && errno == ETIMEDOUT, "4 MB to a peer that reads 4 KB every 20 ms: ETIMEDOUT at the deadline");
	CHECK(took >= 250 && took < 5000, "after the deadline's 300 ms, not the 20 s it would take");

	/* a deadline already past fails the next wait at once */
	io_deadline(&out, 1);
	pause_20ms();
	out.len = 0;
	r = io_put(&out, "z", 1) == 0 ? io_flush(&out) : -1;
	CHECK(r == -1 && errno == ETIMEDOUT, "a deadline passed: the next wait fails at once");
	end_child(kid);
	close(sv[0]);
	close(sv[1]);
	str_free(&line);
	return check_done();
}
