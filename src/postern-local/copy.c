#include <errno.h>
#include <string.h>
#include <unistd.h>
#include "copy.h"
#include "io.h"

void octets_add(struct octets *o, const char *b, size_t n)
{
	const char *p = b, *end = b + n, *nl;

	if (n == 0)
		return;
	/* a CR that ended the last piece still makes the first LF no bare one */
	while ((nl = memchr(p, '\n', (size_t)(end - p)))) {
		if (nl > b ? nl[-1] != '\r' : o->last != '\r')
			o->bare++;
		p = nl + 1;
	}
	o->bytes += n;
	o->last = (unsigned char)end[-1];
}

int octets_unended(const struct octets *o)
{
	return o->last != -1 && o->last != '\n';
}

unsigned long long octets_crlf(const struct octets *o)
{
	return o->bytes + o->bare;
}

/* Read and written through a buffer outside the stack: 64 KB of stack
 * frame would be touched page by page at every call (the compiler's stack
 * clash probes), 16 page faults for each delivery.  Not copy_file_range:
 * a Maildir copy must pass through here to be counted, and a pipe (a
 * forward) is no file the kernel copies into. */
int copy_message(int fd, const char *pre, size_t prelen, int msgfd, struct octets *count)
{
	static char buf[65536];
	off_t off = 0;

	if (write_all(fd, pre, prelen) == -1)
		return -1;
	if (count)
		octets_add(count, pre, prelen);
	for (;;) {
		ssize_t r;
		do
			r = pread(msgfd, buf, sizeof buf, off);
		while (r == -1 && errno == EINTR);
		if (r == -1)
			return -2;
		if (r == 0)
			return 0;
		if (write_all(fd, buf, (size_t)r) == -1)
			return -1;
		if (count)
			octets_add(count, buf, (size_t)r);
		off += r;
	}
}
