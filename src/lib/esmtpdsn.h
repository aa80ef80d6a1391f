/* The SMTP DSN extension's parameters (RFC 3461): NOTIFY and ORCPT on
 * RCPT, RET and ENVID on MAIL, and the xtext their values are written
 * in.  Every program that carries them checks them with these functions:
 * postern-smtpd as it reads them, envelope_parse in the queue, postern-send
 * as it builds them for postern-remote, postern-rspawn and postern-remote
 * as they pass them on (doc/dsn.md). */
#ifndef POSTERN_ESMTPDSN_H
#define POSTERN_ESMTPDSN_H
#include <stddef.h>
#include "str.h"

/* NOTIFY, as bits; 0 means the client did not say (then FAILURE and
 * DELAY, RFC 3461 4.1) */
#define DSN_NOTIFY_NEVER 1
#define DSN_NOTIFY_SUCCESS 2
#define DSN_NOTIFY_FAILURE 4
#define DSN_NOTIFY_DELAY 8
#define DSN_NOTIFY_DEFAULT (DSN_NOTIFY_FAILURE | DSN_NOTIFY_DELAY)

#define DSN_RET_FULL 1
#define DSN_RET_HDRS 2

#define DSN_ENVID_MAX 100 /* bytes of xtext (RFC 3461 4.4) */
#define DSN_ORCPT_MAX 500 /* bytes of xtext after the address type (RFC 3461 4.2) */
#define DSN_ADDRTYPE_MAX 32
/* The longest parameter text either command can carry:
 * "NOTIFY=SUCCESS,FAILURE,DELAY ORCPT=" + type + ";" + xtext */
#define DSN_PARAMS_MAX 600

/* xtext: printable ASCII but "+" and "=", and "+XX" with two upper-case
 * hex digits for any other byte.  1 if s[0..n) is such text, n >= 1. */
int xtext_ok(const char *s, size_t n);
/* Appends what valid xtext stands for. */
int xtext_decode(struct str *out, const char *s, size_t n);
/* Appends s written as xtext. */
int xtext_encode(struct str *out, const char *s, size_t n);

/* NOTIFY's value, upper or lower case: NEVER, or SUCCESS, FAILURE and
 * DELAY in any order, each once.  The bits, or 0 if malformed. */
unsigned dsn_notify_parse(const char *s, size_t n);
/* The bits if s[0..n) is a value as dsn_notify_cat writes it, else 0. */
unsigned dsn_notify_canonical(const char *s, size_t n);
/* The canonical value for bits: NEVER or e.g. "SUCCESS,DELAY". */
int dsn_notify_cat(struct str *out, unsigned bits);
/* RET's value, either case: DSN_RET_FULL, DSN_RET_HDRS, or 0. */
int dsn_ret_parse(const char *s, size_t n);
/* ENVID's value: xtext of 1 to DSN_ENVID_MAX bytes. */
int dsn_envid_ok(const char *s, size_t n);
/* ORCPT's value: an address type (letters, digits, hyphens, at most
 * DSN_ADDRTYPE_MAX) then ";" then 1 to DSN_ORCPT_MAX bytes of xtext. */
int dsn_orcpt_ok(const char *s, size_t n);

/* The parameters postern-remote adds to MAIL and to one RCPT when the next
 * server offers DSN: space-separated KEY=VALUE, nothing if there is
 * nothing to pass on.  ret 0 and envid_len 0 (or notify 0 and orcpt_len 0)
 * mean not given. */
int dsn_mail_params(struct str *out, int ret, const char *envid, size_t envid_len);
int dsn_rcpt_params(struct str *out, unsigned notify, const char *orcpt, size_t orcpt_len);
/* 1 if s[0..n) is what dsn_mail_params (rcpt 0) or dsn_rcpt_params
 * (rcpt 1) can write: empty, or each key once, in that order, with a
 * valid value, single spaces between. */
int dsn_params_ok(const char *s, size_t n, int rcpt);
/* In parameters dsn_params_ok accepted, the value of key ("NOTIFY=",
 * "ORCPT=", "RET=" or "ENVID="): 1 with *v and *vl, or 0 if it is not
 * there. */
int dsn_params_get(const char *s, size_t n, const char *key, const char **v, size_t *vl);
#endif
