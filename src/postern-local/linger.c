/* The socket is lspawn's, which runs as root and checked every field
 * before it sent them; still, a record that is not exactly what
 * doc/pipes.md says ends this process (lspawn then answers Z for its
 * messages), and never leaves a stray fd behind. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "batch.h"
#include "netstring.h"
#include "str.h"
#include "linger.h"

#define RECORD_MAX 8192 /* lspawn's request frame bounds it */

static void close_all(const int *fd, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		close(fd[i]);
}

/* Moves fd[i] to 3 + i.  The received fds were given the lowest free
 * numbers, which are 3, 4, ... once the last batch's are closed; if
 * something else held one of those, go through numbers above them all. */
static int place(int *fd, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (fd[i] != 3 + (int)i)
			break;
	if (i == n)
		return 0;
	for (i = 0; i < n; i++) {
		int high = fcntl(fd[i], F_DUPFD_CLOEXEC, 3 + LOCAL_BATCH_MAX);
		if (high == -1)
			return -1;
		close(fd[i]);
		fd[i] = high;
	}
	for (i = 0; i < n; i++) {
		if (dup3(fd[i], 3 + (int)i, O_CLOEXEC) == -1)
			return -1;
		close(fd[i]);
		fd[i] = 3 + (int)i;
	}
	return 0;
}

long linger_parse(char *rec, size_t len, size_t nfd, char **field)
{
	struct str payload;
	size_t flen[LOCAL_MSG_ARGS * LOCAL_BATCH_MAX];
	long nf;

	if (nfd < 1 || nfd > LOCAL_BATCH_MAX)
		return -1;
	payload.s = rec;
	payload.len = len;
	payload.cap = len;
	nf = ns_split(&payload, (const char **)field, flen, LOCAL_MSG_ARGS * LOCAL_BATCH_MAX);
	if (nf < 0 || (size_t)nf != LOCAL_MSG_ARGS * nfd)
		return -1;
	return (long)nfd;
}

void linger_release(size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		close(3 + (int)i);
}

long linger_next(int sock, char ***args, const char **why)
{
	static char rec[RECORD_MAX + 1];
	static char *field[LOCAL_MSG_ARGS * LOCAL_BATCH_MAX];
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int) * (LOCAL_BATCH_MAX + 1))];
	} c;
	struct msghdr mh = { 0 };
	struct iovec iov = { rec, RECORD_MAX };
	struct cmsghdr *h;
	int fd[LOCAL_BATCH_MAX + 1];
	size_t nfd = 0;
	ssize_t r;

	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = c.b;
	mh.msg_controllen = sizeof c.b;
	do
		r = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (r == -1 && errno == EINTR);
	if (r == -1) {
		*why = "unable to read the next request from postern-lspawn";
		return -1;
	}
	for (h = CMSG_FIRSTHDR(&mh); h; h = CMSG_NXTHDR(&mh, h)) {
		size_t k, got;
		if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS || h->cmsg_len < CMSG_LEN(0))
			continue;
		got = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (k = 0; k < got; k++) {
			int one;
			memcpy(&one, CMSG_DATA(h) + k * sizeof(int), sizeof one);
			if (nfd < LOCAL_BATCH_MAX + 1)
				fd[nfd++] = one;
			else
				close(one);
		}
	}
	if (r == 0 && nfd == 0)
		return 0;
	*why = "malformed request from postern-lspawn";
	if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
		close_all(fd, nfd);
		return -1;
	}
	if (linger_parse(rec, (size_t)r, nfd, field) < 0) {
		close_all(fd, nfd);
		return -1;
	}
	if (place(fd, nfd) == -1) {
		close_all(fd, nfd);
		*why = "unable to move a message's file descriptor";
		return -1;
	}
	*args = field;
	return (long)nfd;
}
