/* Maildir++ quotas: the definition ("NS,NC") and the maildirsize file,
 * as Courier's maildirquota and Dovecot's maildir quota backend keep
 * them, so that all three read one count (doc/quota.md).  Pure, for the
 * unit test and the fuzz target; src/lib/maildirsize.c does the files. */
#ifndef POSTERN_QUOTA_H
#define POSTERN_QUOTA_H
#include <stddef.h>
#include "str.h"

/* A limit of 0 is no limit of that kind; both 0 is no quota. */
struct quota {
	unsigned long long bytes, count;
};

/* What maildirsize's lines add up to.  Lines may be negative (a
 * reader's deletions), and so, after a race, may the sums. */
struct quota_usage {
	long long bytes, count;
	size_t lines;
};

#define QUOTA_FILE_MAX 5120   /* Maildir++: a longer maildirsize is recounted */
#define QUOTA_READ_MAX 65536  /* and one longer than this is not even read */
#define QUOTA_STALE_SECS 900  /* an over-quota verdict from an older file is recounted first */

/* A definition: "NS", "NC", "NS,NC" (either order), N decimal with an
 * optional K, M or G (1024-based) before the letter in control/quota
 * (maildirsize has plain numbers, which is what quota_format writes).
 * "none" and "0" are no quota.  1, or 0 when malformed. */
int quota_parse(const char *s, size_t n, struct quota *q);
/* The Maildir++ form of q: "NS,NC", "NS" or "NC"; "0S" for no quota. */
int quota_format(struct str *out, const struct quota *q);
int quota_same(const struct quota *a, const struct quota *b);
/* maildirsize's text: its definition (first line) and the sums of the
 * others ("BYTES COUNT", signed decimals, blanks around them).  1, or 0
 * when any line is malformed, a sum would overflow, or the text has no
 * line end after its last line (a writer in the middle of its append):
 * then the file is recounted. */
int quota_read(const char *text, size_t n, struct quota *def, struct quota_usage *use);
/* 1 when a message of msgbytes more would pass a limit of q. */
int quota_over(const struct quota *q, const struct quota_usage *use, unsigned long long msgbytes);
#endif
