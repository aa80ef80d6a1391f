#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "serve.h"
#include "die.h"
#include "log.h"
#include "seconds.h"
#include "selfpipe.h"
#include "sign.h"
#include "unixsock.h"

#define ACCEPT_ROUND 64 /* accepts between two looks at the connections */
#define PAUSE_MS 100    /* out of descriptors: the backlog waits this long */
#define SELDOM_MS 10000 /* a line that could come again and again: once in this */

struct conn {
	int fd;             /* -1: closed, to be dropped from the table */
	uid_t uid;
	long long deadline; /* CLOCK_MONOTONIC, ms */
};

static struct conn conns[SERVE_MAX];
static size_t nconns;
static struct pollfd pfd[2 + SERVE_MAX];
static struct serve_counts *counts;
static const struct key *key;
static const struct str *crec;
static uid_t peer;
static int lsock;

/* 1 when the line guarded by *last may be said now. */
static int seldom(long long *last, long long now)
{
	if (*last && now - *last < SELDOM_MS)
		return 0;
	*last = now;
	return 1;
}

static void shut(int fd)
{
	if (close(fd) == -1)
		warn_sys("warning: unable to close a connection");
}

/* One line about a peer: why, if anything went wrong, and the system's
 * word for it when a call failed (sys). */
static void log_peer(const char *event, uid_t uid, const char *why, const char *sys)
{
	struct logline l = { STR_INIT };

	log_begin(&l, event);
	log_kvu(&l, "uid", (unsigned long long)uid);
	if (why)
		log_kv(&l, "why", why);
	if (sys)
		log_kv(&l, "sys", sys);
	log_end(&l);
}

/* Reads what else the peer sent, so that closing does not turn the
 * answer into ECONNRESET (a Unix socket closed with unread records resets
 * its peer, which then sees the error before the answer).  Bounded: a peer
 * that keeps writing gets its reset. */
static void drain(int fd)
{
	char b[SIGN_RECORD_MAX];
	int i;

	for (i = 0; i < 64 && recv(fd, b, sizeof b, MSG_DONTWAIT) > 0; i++) {}
}

/* Reads the connection's S record and answers it, unless nothing is there
 * yet after all; then closes it. */
static void answer(struct conn *c)
{
	unsigned char rec[SIGN_RECORD_MAX], out[SIGN_ANSWER_MAX + 1];
	struct iovec iov = { rec, sizeof rec };
	struct msghdr m;
	const char *hash = 0;
	size_t n;
	ssize_t r;
	char more;

	memset(&m, 0, sizeof m);
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	/* No room for ancillary data: descriptors sent along are closed by
	 * the kernel, and MSG_CTRUNC says they came. */
	r = recvmsg(c->fd, &m, MSG_DONTWAIT);
	if (r == -1 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (r == -1) {
		counts->errors++;
		log_peer("error", c->uid, "unable to read the S record", strerror(errno));
	} else if (r > 0) { /* 0: the engine gave up its handshake, nothing to say */
		if (m.msg_flags & MSG_TRUNC)
			n = sign_refuse(out, "record too long");
		else if (m.msg_flags & MSG_CTRUNC)
			n = sign_refuse(out, "record with ancillary data");
		else if (recv(c->fd, &more, 1, MSG_DONTWAIT | MSG_PEEK) > 0) {
			n = sign_refuse(out, "more than one record");
			drain(c->fd);
		} else
			n = sign_answer(key, rec, (size_t)r, out, &hash);
		if (send(c->fd, out, n, MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)n) {
			counts->errors++;
			log_peer("error", c->uid, "unable to send the answer", strerror(errno));
		} else if (hash) {
			counts->signatures++;
		} else {
			counts->errors++;
			out[n] = 0;
			log_peer("error", c->uid, (const char *)out + 1, 0);
		}
	}
	shut(c->fd);
	c->fd = -1;
}

/* Takes one waiting connection: 1 taken (or closed at once), 0 none
 * waiting, -1 out of descriptors or memory (errno set). */
static int accept_one(long long now, long long *last_full)
{
	uid_t uid;
	int fd = accept4(lsock, 0, 0, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
			return -1;
		return 1; /* ECONNABORTED, EINTR: the next one */
	}
	if (nconns == SERVE_MAX) {
		static unsigned long long times; /* closed since the last line */
		counts->full++;
		times++;
		if (seldom(last_full, now)) {
			struct logline l = { STR_INIT };
			log_begin(&l, "full");
			log_kvu(&l, "connections", nconns);
			log_kvu(&l, "times", times);
			log_end(&l);
			times = 0;
		}
		shut(fd);
		return 1;
	}
	if (unix_peer_uid(fd, &uid) == -1) {
		warn_sys("warning: unable to read a peer's credentials");
		shut(fd);
		return 1;
	}
	if (uid != peer) {
		/* any local user may connect: one looping must not fill the
		 * log (the stop line counts them all) */
		static long long last_refused;
		counts->refused++;
		if (seldom(&last_refused, now))
			log_peer("refused", uid, 0, 0);
		shut(fd);
		return 1;
	}
	/* A new connection's buffer is empty, so the record fits unless
	 * the peer is already gone. */
	if (send(fd, crec->s, crec->len, MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)crec->len) {
		counts->errors++;
		log_peer("error", uid, "unable to send the C record", strerror(errno));
		shut(fd);
		return 1;
	}
	conns[nconns].fd = fd;
	conns[nconns].uid = uid;
	conns[nconns].deadline = now + SERVE_IDLE_MS;
	nconns++;
	return 1;
}

/* The poll timeout: until the first deadline, or the end of a pause. */
static int wait_ms(long long now, long long paused_until)
{
	long long until = paused_until > now ? paused_until : -1;
	size_t i;

	for (i = 0; i < nconns; i++)
		if (until == -1 || conns[i].deadline < until)
			until = conns[i].deadline;
	if (until == -1)
		return -1;
	if (until <= now)
		return 0;
	return until - now > INT_MAX ? INT_MAX : (int)(until - now);
}

void serve(int lfd, int sigfd, uid_t peer_uid, const struct str *c_record, const struct key *k,
           struct serve_counts *cnt)
{
	long long paused_until = 0, last_full = 0, last_fail = 0;

	counts = cnt;
	key = k;
	crec = c_record;
	peer = peer_uid;
	lsock = lfd;
	for (;;) {
		long long now = monotonic_ms();
		size_t i, n = nconns, kept = 0;

		pfd[0] = (struct pollfd){ sigfd, POLLIN, 0 };
		pfd[1] = (struct pollfd){ now >= paused_until ? lfd : -1, POLLIN, 0 };
		for (i = 0; i < n; i++)
			pfd[2 + i] = (struct pollfd){ conns[i].fd, POLLIN, 0 };
		if (poll(pfd, 2 + n, wait_ms(now, paused_until)) == -1) {
			if (errno == EINTR)
				continue;
			die_sys(111, "fatal: poll");
		}
		if (pfd[0].revents)
			selfpipe_drain();
		/* after the drain: a SIGTERM caught between a look at the flag
		 * and the drain would lose its byte and leave poll asleep */
		if (selfpipe_term)
			return;
		now = monotonic_ms();
		for (i = 0; i < n; i++) {
			struct conn *c = &conns[i];
			if (pfd[2 + i].revents)
				answer(c);
			if (c->fd != -1 && now >= c->deadline) {
				counts->timeouts++;
				log_peer("timeout", c->uid, 0, 0);
				shut(c->fd);
				c->fd = -1;
			}
			if (c->fd != -1)
				conns[kept++] = *c;
		}
		nconns = kept;
		for (i = 0; pfd[1].revents && i < ACCEPT_ROUND; i++) {
			int r = accept_one(now, &last_full);
			if (r == 0)
				break;
			if (r == -1) {
				if (seldom(&last_fail, now))
					warn_sys("warning: unable to accept a connection, pausing for 100 ms");
				paused_until = now + PAUSE_MS;
				break;
			}
		}
	}
}
