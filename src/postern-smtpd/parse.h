/* The SMTP command and address parser, kept apart from the session so that
 * the unit tests and the libFuzzer target (tests/fuzz/) link exactly the code
 * that meets the network.  Nothing here allocates except into the caller's
 * struct str, and nothing reads past the length it is given. */
#ifndef POSTERN_SMTPD_PARSE_H
#define POSTERN_SMTPD_PARSE_H
#include <stddef.h>
#include "str.h"
#include "esmtpdsn.h"

enum verb {
	V_UNKNOWN, V_HELO, V_EHLO, V_MAIL, V_RCPT, V_DATA, V_BDAT, V_RSET, V_NOOP,
	V_QUIT, V_VRFY, V_EXPN, V_HELP, V_STARTTLS, V_AUTH, V_TURN, V_ETRN
};
/* line is one command without its CRLF.  The verb must be followed by the
 * end of the line or a space; *arg is the offset of the argument (after
 * that one space), or n. */
enum verb parse_verb(const char *line, size_t n, size_t *arg);

/* Bytes a command line may never hold: NUL, CR, LF and other controls
 * (TAB excepted).  0 if the line is clean. */
int line_bad_bytes(const char *line, size_t n);

/* HELO/EHLO argument: 1 to 255 bytes, no controls and no spaces. */
int parse_helo(const char *s, size_t n);

/* Results of parse_path. */
#define P_OK 0
#define P_SYNTAX 1     /* 501: not a path */
#define P_TOOLONG 2    /* 501: over PATH_MAX_ octets */
#define P_ROUTE 3      /* 553: a source route <@a,@b:u@c> */
#define P_QUOTEDAT 4   /* 553: a quoted local part holding '@' (relay trick) */
#define P_QUOTED 5     /* 553: any other quoted local part that is not a plain dot-atom */
#define P_BADUTF8 6    /* 501: bytes >= 0x80 that are not well-formed UTF-8 */
#define PATH_MAX_ 256  /* RFC 5321 4.5.3.1.3, the angle brackets included */

struct path {
	struct str addr;   /* local@domain as sent (a quoted dot-atom unquoted), or empty for <> */
	size_t at;         /* offset of the '@' in addr, addr.len when there is none */
	int utf8;          /* addr holds bytes >= 0x80 */
	int literal;       /* the domain is an address literal [..] */
};
/* s is the argument of MAIL or RCPT; kw is "FROM:" or "TO:" (matched without
 * case).  Blanks after the colon are tolerated.  On P_OK, *rest is the
 * offset of the parameters (after one or more spaces) or n.  An empty path
 * <> and a path with no '@' (<postmaster>) are returned for the caller to
 * judge. */
int parse_path(const char *s, size_t n, const char *kw, struct path *p, size_t *rest);

/* One ESMTP parameter "KEYWORD[=value]" starting at *pos in s; moves *pos
 * past it and the spaces after it.  1: a parameter (key/klen, val/vlen, val
 * NULL when there is no '='), 0: no more, -1: syntax error. */
int parse_param(const char *s, size_t n, size_t *pos, const char **key, size_t *klen,
                const char **val, size_t *vlen);
/* Case-insensitive compare of b (len n) with the NUL-terminated ASCII word w. */
int word_is(const char *b, size_t n, const char *w);

/* 1 if the line starts with the word BDAT (any case) ended by anything but
 * a letter: a space, a TAB, a digit, a control byte, the end.  Such a line
 * announced a chunk even when it cannot be parsed. */
int line_is_bdat(const char *line, size_t n);

/* BDAT argument: "size" or "size LAST".  1 ok, 0 syntax error. */
int parse_bdat(const char *s, size_t n, unsigned long long *size, int *last);

/* An address literal without its brackets ("1.2.3.4" or "IPv6:::1") as a
 * binary address: 4 or 16 bytes into out, returns the length or 0. */
size_t literal_addr(const char *s, size_t n, unsigned char out[16]);

/* The message body, as it arrives after DATA or in BDAT chunks.  DATA ends
 * only at CRLF "." CRLF; a leading dot is removed; CRLF becomes LF (the queue
 * keeps LF line ends); a CR or LF that is not part of a CRLF pair marks the
 * message bad (it is read to its end and refused: SMTP smuggling).  BDAT
 * chunks get the same line-end treatment without dots or an end marker. */
struct body {
	int state;
	int bdat;           /* no dot-stuffing, no end marker */
	int bad;            /* a bare CR or LF was seen */
	int done;           /* CRLF.CRLF seen (DATA only) */
	int in_headers;
	size_t lpos;        /* octets of the current line, for the header check */
	char lbuf[9];
	unsigned long hops; /* Received: header lines */
	/* For the fields submission adds (RFC 6409 8.2, 8.3): */
	int stop_at_blank;  /* set by the caller: stop before the blank line */
	int at_blank;       /* stopped there: the caller adds, clears it, feeds on */
	int stopped;        /* it has stopped once: never again */
	int not_a_header;   /* a line of the header was no field */
	int has_date, has_msgid;
	int name_state;     /* of the current line's field name */
	size_t nlen;
	char name[11];      /* "message-id" at most is worth keeping */
	int last_lf;        /* the last byte written ended a line (or none yet) */
};
void body_init(struct body *, int bdat);
/* The fields the header lacks, for postern-smtpd -a to add: BODY_DATE and
 * BODY_MSGID bits, 0 when a line of the header was no field (nothing is
 * added to what cannot be read as a header). */
#define BODY_DATE 1
#define BODY_MSGID 2
int body_missing(const struct body *);
/* Consumes up to n bytes of in; writes at most n + 1 bytes to out (a CR held
 * back from the previous call may come out now); stops right after the end
 * marker, and, once, with at_blank set, before the line end of the blank
 * line that ends the header when stop_at_blank is set and the header is
 * well-formed.  *used is the number of input bytes consumed;
 * returns the number of bytes written to out. */
size_t body_feed(struct body *, const char *in, size_t n, char *out, size_t *used);
/* The DSN parameters (RFC 3461, doc/dsn.md) of one MAIL (RET, ENVID) or
 * one RCPT (NOTIFY, ORCPT), as parse_param finds them.  The values point
 * into the command line, which must outlive the struct; checked with
 * src/lib/esmtpdsn.c, which also has the xtext_ok that MAIL's AUTH=
 * parameter (RFC 4954 5) is checked with. */
struct dsn_args {
	int ret;             /* DSN_RET_FULL or DSN_RET_HDRS; 0 not given */
	const char *envid;   /* xtext; envid_len 0 not given */
	size_t envid_len;
	unsigned notify;     /* DSN_NOTIFY_ bits; 0 not given */
	const char *orcpt;   /* "type;xtext" as the client wrote it; orcpt_len 0 not given */
	size_t orcpt_len;
};
void dsn_args_init(struct dsn_args *);
/* key (klen bytes) and its value (val NULL when there was no '='), one
 * parameter of MAIL (rcpt 0) or RCPT (rcpt 1): 1 a DSN parameter of that
 * command, taken into d; 0 not one; -1 refused, because it came before
 * in this command or its value is missing or malformed, with the 501
 * reply in *why. */
int dsn_arg_take(struct dsn_args *d, int rcpt, const char *key, size_t klen, const char *val, size_t vlen,
                 const char **why);
/* Appends to an envelope the records of what d holds (doc/dsn.md, "In
 * the queue"): R then E for MAIL (rcpt 0), to follow the F record; N then
 * O for RCPT (rcpt 1), to come before its T record.  0 out of memory. */
int dsn_records_cat(struct str *env, const struct dsn_args *d, int rcpt);

#endif
