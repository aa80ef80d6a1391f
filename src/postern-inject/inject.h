/* postern-inject's parts.  Limits keep a hostile or broken message from
 * using unbounded memory: only the header section is held, the body streams. */
#ifndef POSTERN_INJECT_INJECT_H
#define POSTERN_INJECT_INJECT_H
#include <stddef.h>
#include "io.h"
#include "str.h"

#define LINE_CHUNK 65536          /* longest header line; body lines pass in chunks */
#define HEADER_MAX (1024 * 1024)  /* bytes in the header section */
#define HEADER_LINES 10000        /* physical lines in the header section */
#define RCPT_MAX 100000           /* as postern-queue */

struct opts {
	int dotstop;        /* 1: a line holding only "." ends the message (no -i) */
	int tflag;          /* -t: recipients from To, Cc, Bcc */
	const char *sender; /* -f, or 0 */
	const char *fullname;
	const char *me;     /* control/me: Authentication-Results naming it are dropped */
	const char *notify, *ret, *envid; /* -N, -R, -V, or 0 (DSN, doc/dsn.md) */
};

struct header_seen {
	int date, msgid, from;
	int resent; /* a Resent- field: -t takes Resent-To, -Cc, -Bcc instead */
};

/* line.c: one line from in, CRLF turned into LF.  Returns 1 a whole line,
 * 2 a chunk of a longer line (no LF yet), 3 the last chunk of a longer line
 * (it ends the line but does not start one), 0 EOF with nothing, -1 error.
 * Only a 1 is a line of its own: per-line rules (a lone ".", a header
 * field) apply to it alone. */
int line_get(struct io *in, struct str *line);
int line_is_dot(const struct str *line);

/* header.c: reads the header section.  Kept fields go to out (LF ends),
 * -t addresses to rcpts (NUL-separated; those of the Resent- fields if
 * there are any), Bcc, Resent-Bcc, Return-Path and Authentication-Results
 * fields naming o->me are dropped.
 * *body gets the first body line if one was read that is not a header
 * (it belongs in the body), *eof 1 if input ended in the header section.
 * Dies 100 on a header over the limits. */
void header_read(struct io *in, const struct opts *o, struct str *out, struct str *rcpts,
                 struct header_seen *seen, struct str *body, int *eof);

/* addrlist.c: appends the addresses of an RFC 5322 address list (display
 * names, comments, groups, angle brackets) to out, each NUL-terminated. */
int addrlist_parse(const char *v, size_t n, struct str *out);

/* dsnopt.c: the values of -N, -R and -V (each 0 when not given) as
 * envelope records: R and E into mail, to follow the F record, and N into
 * rcpt, to come before each T record; each empty when there is none.
 * 1 done, 0 out of memory, -1 a bad value (why says which and why). */
int dsnopt_records(const char *notify, const char *ret, const char *envid, struct str *mail, struct str *rcpt,
                   const char **why);

/* qq.c: runs HOME/bin/postern-queue, feeding it head, then the rest of in,
 * then env; returns its exit status (or 111/120 for our own failures). */
int qq_run(const struct str *head, const struct str *firstbody, int eof, struct io *in,
           int dotstop, const struct str *env);
/* What postern-queue's exit code means, and whether it is permanent. */
const char *qq_meaning(int code, int *permanent);
#endif
