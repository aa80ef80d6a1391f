#include <errno.h>
#include <string.h>
#include <unistd.h>
#include "die.h"
#include "netstring.h"
#include "outq.h"

int outq_frame(struct outq *o, const char *payload, size_t len)
{
	if (o->gone)
		return 1;
	return ns_cat(&o->q, payload, len);
}

int outq_flush(struct outq *o, int fd)
{
	size_t done = 0;
	int r = 0;

	while (done < o->q.len) {
		ssize_t w = write(fd, o->q.s + done, o->q.len - done);
		if (w == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			o->gone = 1;
			done = o->q.len;
			r = -1;
			break;
		}
		done += (size_t)w;
	}
	if (done) {
		int e = errno;
		memmove(o->q.s, o->q.s + done, o->q.len - done);
		o->q.len -= done;
		errno = e;
	}
	return r;
}

int outq_waiting(const struct outq *o)
{
	return o->q.len && !o->gone;
}

void outq_send(struct outq *o, int fd, const char *peer)
{
	if (outq_waiting(o) && outq_flush(o, fd) == -1)
		warn_sys("warning: unable to write to ", peer);
}
