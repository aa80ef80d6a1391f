/* Buffered reading and writing on a file descriptor, in place of stdio.
 * A timeout (milliseconds, 0 = none) bounds every wait for the peer, which is
 * how network programs stop a client that goes silent.  A deadline bounds
 * all the waits until it together, which stops a peer that is never silent
 * for long but never done either (a byte a minute).  Errors come back as -1
 * with errno set; a timeout or a deadline passed sets errno to ETIMEDOUT. */
#ifndef POSTERN_IO_H
#define POSTERN_IO_H
#include <stddef.h>
#include <sys/types.h>
#include "str.h"

struct io {
	int fd;
	char *buf;
	size_t cap;
	size_t pos; /* reading: next byte to hand out */
	size_t len; /* bytes in buf */
	int timeout_ms;
	long long deadline_ms; /* CLOCK_MONOTONIC, in ms; 0: none */
};

void io_init(struct io *, int fd, char *buf, size_t cap);
/* Every wait from now on ends within ms milliseconds in all (0: no deadline). */
void io_deadline(struct io *, unsigned long long ms);
/* Reading */
ssize_t io_fill(struct io *);               /* >0 bytes added, 0 EOF, -1 error */
ssize_t io_read(struct io *, char *, size_t); /* like read(2), from the buffer first */
size_t io_buffered(const struct io *);
/* Appends to line up to and including delim, at most max bytes in line.
 * Returns 1: line ends with delim; 0: EOF (line holds what came before it);
 * -1: error; -2: line reached max bytes without delim (errno E2BIG). */
int io_getline(struct io *, struct str *line, char delim, size_t max);
/* Writing */
int io_put(struct io *, const char *, size_t);  /* 0 ok, -1 error */
int io_puts(struct io *, const char *);
int io_putu(struct io *, unsigned long long);
int io_flush(struct io *);
/* Whole-buffer helpers on a raw fd, retrying on EINTR and short counts. */
int write_all(int fd, const char *, size_t);
ssize_t read_retry(int fd, char *, size_t);
#endif
