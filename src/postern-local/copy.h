/* Every copy of a message that postern-local makes (Maildir file,
 * forward) is the trace lines followed by the queue's message file, read
 * from offset 0 (pread) so one fd serves every delivery in turn. */
#ifndef POSTERN_LOCAL_COPY_H
#define POSTERN_LOCAL_COPY_H
#include <stddef.h>

/* What a copy held, counted as it went: enough for the size POP3 will
 * say (postern-pop3d's copy.h), so that the Maildir name can carry it. */
struct octets {
	unsigned long long bytes;  /* the file's size */
	unsigned long long bare;   /* LFs not right after a CR */
	int last;                  /* the last byte, -1 before the first */
};
#define OCTETS_INIT { 0, 0, -1 }

void octets_add(struct octets *, const char *, size_t);
/* 1 when what was counted ends in a line without its LF (maildir.c
 * then adds one), 0 when it ends in LF or is empty. */
int octets_unended(const struct octets *);
/* The size with every line ended by CRLF: every byte, one more for each
 * bare LF.  For a copy whose last line ends in LF this is Dovecot's
 * virtual size, IMAP's RFC822.SIZE, and what postern-pop3d sends (which
 * for a file without its last LF is this plus the CRLF, or the LF after
 * a CR, that ends the line: the same number once the LF is added). */
unsigned long long octets_crlf(const struct octets *);

/* 0 done; -1 a write to fd failed; -2 reading msgfd failed (errno set).
 * count: when not null, every byte written is counted into it. */
int copy_message(int fd, const char *pre, size_t prelen, int msgfd, struct octets *count);
#endif
