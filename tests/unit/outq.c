/* The output queue of the spawners (src/lib/outq.c): frames wait in memory
 * while the reader's pipe is full, come out whole and in order when it
 * drains, and a reader that is gone makes the queue drop everything,
 * once, without a SIGPIPE. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include "check.h"
#include "netstring.h"
#include "outq.h"

/* Reads what is in the pipe now (non-blocking) onto got. */
static void take(int fd, struct str *got)
{
	char b[65536];
	ssize_t r;
	while ((r = read(fd, b, sizeof b)) > 0)
		(void)str_catb(got, b, (size_t)r);
}

int main(void)
{
	struct outq q = OUTQ_INIT;
	struct str want = STR_INIT, got = STR_INIT;
	char frame[1000];
	int p[2], ok = 1, i, r;
	size_t pipe_size;

	signal(SIGPIPE, SIG_IGN);
	CHECK(pipe2(p, O_NONBLOCK) == 0, "a non-blocking pipe");
	pipe_size = (size_t)fcntl(p[1], F_GETPIPE_SZ);

	CHECK(!outq_waiting(&q) && outq_flush(&q, p[1]) == 0, "empty: nothing waits, a flush is a no-op");

	/* 300 frames of 1000 bytes, about 4.6 times the pipe: the first flush
	 * fills the pipe and keeps the rest, without blocking */
	for (i = 0; i < 300 && ok; i++) {
		memset(frame, 'a' + i % 26, sizeof frame);
		ok = outq_frame(&q, frame, sizeof frame) && ns_cat(&want, frame, sizeof frame);
	}
	CHECK(ok, "300 frames queued");
	r = outq_flush(&q, p[1]);
	CHECK(r == 0 && outq_waiting(&q) && q.q.len == want.len - pipe_size,
	      "a flush into a pipe that cannot take everything writes what fits and keeps the rest");
	CHECK(outq_flush(&q, p[1]) == 0 && q.q.len == want.len - pipe_size, "a flush into a full pipe: 0, nothing lost");
	while (outq_waiting(&q)) {
		take(p[0], &got);
		if (outq_flush(&q, p[1]) == -1)
			break;
	}
	take(p[0], &got);
	CHECK(!outq_waiting(&q) && got.len == want.len && memcmp(got.s, want.s, want.len) == 0,
	      "as the reader drains, every frame comes out whole and in order");

	/* the reader gone: -1 once (EPIPE), then everything is dropped */
	CHECK(outq_frame(&q, "x", 1), "a frame queued");
	close(p[0]);
	errno = 0;
	r = outq_flush(&q, p[1]);
	CHECK(r == -1 && errno == EPIPE && q.gone && q.q.len == 0, "the reader gone: -1 with EPIPE, the queue emptied");
	CHECK(outq_frame(&q, "y", 1) && !outq_waiting(&q) && outq_flush(&q, p[1]) == 0,
	      "after that, frames are dropped and flushes are quiet");
	close(p[1]);
	str_free(&q.q);
	str_free(&want);
	str_free(&got);
	return check_done();
}
