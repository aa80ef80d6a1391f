/* SMTP AUTH's decoding (RFC 4954), kept apart from the session as
 * parse.c is, so that the unit tests and the fuzz target link exactly the
 * code that meets the network's base64.  Two mechanisms: PLAIN (RFC 4616)
 * and LOGIN (the draft every mail client still speaks).  Nothing here
 * allocates, and the decoded bytes stay in the caller's struct sasl,
 * which the caller wipes. */
#ifndef POSTERN_SMTPD_SASL_H
#define POSTERN_SMTPD_SASL_H
#include <stddef.h>
#include "loginname.h"
#include "pop3limits.h"

enum sasl_mech { SASL_NONE, SASL_PLAIN, SASL_LOGIN };

/* PLAIN's largest message: authzid NUL authcid NUL passwd */
#define SASL_MAX (LOGINNAME_MAX + 1 + LOGINNAME_MAX + 1 + PASSWORD_MAX)
/* AUTH's line and a response line, CRLF included: the base64 of SASL_MAX
 * with room for "AUTH PLAIN " (RFC 4954 4 allows up to 12288) */
#define SASL_LINE_MAX 2200
_Static_assert((SASL_MAX + 2) / 3 * 4 + 13 <= SASL_LINE_MAX, "PLAIN's largest response fits a line");

struct sasl {
	unsigned char buf[SASL_MAX + 1];
	size_t len;
	const char *user, *pass; /* into buf */
	size_t ulen, plen;
};

/* Results of the functions below. */
#define SASL_OK 0
#define SASL_SYNTAX 1   /* 501: not base64, or not the mechanism's message */
#define SASL_CREDS 2    /* 535: a message no password could make right:
                         * another authorization identity, no password, a
                         * name that is not a login name (loginname.h) */

/* The argument of AUTH: the mechanism (without case) and, after one
 * space, the initial response, at *resp (n when there is none). */
enum sasl_mech sasl_mechanism(const char *arg, size_t n, size_t *resp);
/* PLAIN's response (base64, n bytes; "=" is the empty response) into s:
 * user and pass set on SASL_OK. */
int sasl_plain(const char *b64, size_t n, struct sasl *s);
/* LOGIN's two responses, one at a time: the user name, then the
 * password, each appended to s (base64, n bytes). */
int sasl_login_user(const char *b64, size_t n, struct sasl *s);
int sasl_login_pass(const char *b64, size_t n, struct sasl *s);
#endif
