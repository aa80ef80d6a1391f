/* sendmail's DSN options (doc/dsn.md): -N, -R and -V become the envelope
 * records postern-smtpd writes for NOTIFY, RET and ENVID, so that the
 * queue cannot tell a local message's request from a remote one's. */
#include <string.h>
#include "inject.h"
#include "esmtpdsn.h"

/* -V is plain text: checked as the xtext it is written in, which is what
 * the 100-byte limit is on (RFC 3461 4.4). */
static int envid_record(struct str *mail, const char *envid, const char **why)
{
	struct str x = STR_INIT;
	int r = 1;

	if (!*envid) {
		*why = "-V needs a value";
		return -1;
	}
	if (!xtext_encode(&x, envid, strlen(envid)))
		r = 0;
	else if (x.len > DSN_ENVID_MAX) {
		*why = "-V is longer than 100 bytes written as xtext";
		r = -1;
	} else if (!str_catc(mail, 'E') || !str_cat(mail, &x) || !str_catz(mail))
		r = 0;
	str_free(&x);
	return r;
}

int dsnopt_records(const char *notify, const char *ret, const char *envid, struct str *mail, struct str *rcpt,
                   const char **why)
{
	mail->len = rcpt->len = 0;
	if (!str_ready(mail, 0) || !str_ready(rcpt, 0))
		return 0;
	if (ret) {
		int r = dsn_ret_parse(ret, strlen(ret));
		if (!r) {
			*why = "-R takes full or hdrs";
			return -1;
		}
		if (!str_cats(mail, r == DSN_RET_FULL ? "RFULL" : "RHDRS") || !str_catz(mail))
			return 0;
	}
	if (envid) {
		int r = envid_record(mail, envid, why);
		if (r != 1)
			return r;
	}
	if (notify) {
		unsigned bits = dsn_notify_parse(notify, strlen(notify));
		if (!bits) {
			*why = "-N takes never, or success, failure and delay joined by commas";
			return -1;
		}
		if (!str_catc(rcpt, 'N') || !dsn_notify_cat(rcpt, bits) || !str_catz(rcpt))
			return 0;
	}
	return 1;
}
