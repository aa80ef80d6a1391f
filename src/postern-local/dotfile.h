/* postern-local's pure rules: parsing a .postern file, the -default search
 * order, and which extensions and virtual addresses may become file names.
 * No system calls here, so tests/unit/dotfile.c can check every rule.
 * doc/dot-postern.5 is the user's side of the same rules. */
#ifndef POSTERN_LOCAL_DOTFILE_H
#define POSTERN_LOCAL_DOTFILE_H
#include <stddef.h>
#include "str.h"

#define DOT_LINE_MAX 4096   /* bytes in one line, without its LF */
#define DOT_LINES_MAX 1000  /* lines in one file, comments included */
#define EXT_MAX 200         /* ".postern-" + EXT + "-default" stays under NAME_MAX */
#define VLOCAL_MAX 200

enum dot_kind { DOT_MAILDIR, DOT_PROGRAM, DOT_FORWARD };

struct dot_entry {
	enum dot_kind kind;
	const char *s; /* points into the parsed buffer; not NUL-terminated */
	size_t len;
	size_t line;   /* 1-based line number, for messages */
};

struct dotfile {
	struct dot_entry *e;
	size_t n;
	size_t cap;
};

enum dot_error {
	DOT_OK = 0,
	DOT_ERR_LONG,     /* a line over DOT_LINE_MAX */
	DOT_ERR_LINES,    /* over DOT_LINES_MAX lines */
	DOT_ERR_MBOX,     /* a path line not ending in '/': mbox, not supported */
	DOT_ERR_FORWARD,  /* a forward that fails addr_check */
	DOT_ERR_PROGRAM,  /* '|' with no command */
	DOT_ERR_SYNTAX,   /* a line starting with anything else, or holding a NUL */
	DOT_ERR_NOMEM
};

/* Parses buf (len bytes; the caller keeps it alive while d is used).
 * On error, *errline is the 1-based line at fault.  d holds the deliveries
 * in file order; zero entries means a file of comments and blanks only. */
enum dot_error dotfile_parse(struct dotfile *d, const char *buf, size_t len, size_t *errline);
void dotfile_free(struct dotfile *d);
/* A short English reason for an error, for the delivery text. */
const char *dot_error_text(enum dot_error e);

/* The dot-file names to try for an extension, best first, each followed by
 * the part of ext that "default" stands for: "name\0default\0" pairs in out.
 * For "a-b-c": .postern-a-b-c "", .postern-a-b-default "c",
 * .postern-a-default "b-c", .postern-default "a-b-c".  ext must be non-empty
 * and already checked by ext_check(). */
int dotfile_candidates(struct str *out, const char *ext, size_t n);

/* 1 if a (lower-cased) extension may be used in a file name: 1..EXT_MAX
 * bytes, no '/', not starting with '.', no control bytes. */
int ext_check(const char *ext, size_t n);

/* Virtual mailboxes: a lower-cased local part of [a-z0-9._+-], 1..VLOCAL_MAX
 * bytes, not starting with '.'; a lower-cased domain that passes
 * domain_check, holds no '/' and does not start with '.'. */
int vlocal_check(const char *l, size_t n);
int vdomain_check(const char *d, size_t n);
/* Length of the local part before its first '-' or '+' (n if none): the
 * mailbox tried when LOCAL itself has none. */
size_t vlocal_base(const char *l, size_t n);

/* Scans the header section of a message (buf holds its first len bytes; the
 * scan stops at the first empty line).  Returns 1 if a Delivered-To header
 * holds rcpt (compared ignoring ASCII case), else 0; *hops is the number of
 * Received and Delivered-To headers seen. */
int header_scan(const char *buf, size_t len, const char *rcpt, size_t rlen, size_t *hops);
#endif
