#include <errno.h>
#include <string.h>
#include "queue.h"
#include "addr.h"
#include "envelope.h"
#include "io.h"

/* Reads field by field with a bound on each, so a 4 MB address is refused
 * after ADDR_MAX + 2 bytes instead of being held in memory.  The reader stops
 * at the final NUL and never reads past it (as qmail-queue). */
int envelope_in(int fd, struct str *env, const char **why)
{
	char buf[4096];
	struct io in;
	struct str f = STR_INIT;
	size_t nrcpt = 0;
	int code = 0;

	io_init(&in, fd, buf, sizeof buf);
	errno = 0; /* errno != 0 after a failure means: a read error, say which */
	env->len = 0;
	for (;;) {
		int r;
		char type;
		size_t alen;

		f.len = 0;
		r = io_getline(&in, &f, 0, 1 + ADDR_MAX + 1);
		if (r == -1) {
			code = errno == ENOMEM ? QQ_NOMEM : QQ_READ;
			*why = code == QQ_NOMEM ? "fatal: out of memory" : "fatal: unable to read envelope";
			break;
		}
		if (f.len == 0) {
			code = QQ_READ;
			errno = 0;
			*why = "fatal: unable to read envelope: it ends before its final NUL";
			break;
		}
		/* the type letter is judged before the length, so garbage is a format error */
		type = f.s[0];
		if (env->len == 0 && type != 'F') {
			code = QQ_FORMAT;
			*why = "fatal: envelope format error: it does not start with F";
			break;
		}
		if (env->len > 0 && type == 0 && r == 1 && f.len == 1) {
			if (nrcpt == 0) {
				code = QQ_FORMAT;
				*why = "fatal: envelope format error: no recipients";
				break;
			}
			if (!str_catz(env)) {
				code = QQ_NOMEM;
				*why = "fatal: out of memory";
			}
			break;
		}
		if (env->len > 0 && !memchr("TRENOS", type, 6)) {
			code = QQ_FORMAT;
			*why = "fatal: envelope format error: a record is neither T, a DSN or forward record nor the final NUL";
			break;
		}
		if (r == -2) {
			code = QQ_TOOLONG;
			*why = "fatal: address too long";
			break;
		}
		if (r == 0) {
			code = QQ_READ;
			errno = 0;
			*why = "fatal: unable to read envelope: it ends inside a record";
			break;
		}
		alen = f.len - 2;
		if (type != 'F' && type != 'T') {
			/* a DSN or forward record: envelope_parse judges it,
			 * with the order */
			if (!str_catb(env, f.s, f.len)) {
				code = QQ_NOMEM;
				*why = "fatal: out of memory";
				break;
			}
			if (env->len > QQ_ENV_MAX) {
				code = QQ_REFUSE;
				*why = "fatal: envelope too large";
				break;
			}
			continue;
		}
		r = type == 'F' ? envelope_sender_ok(f.s + 1, alen) : addr_check(f.s + 1, alen);
		if (r == ADDR_TOOLONG || r == ENV_TOOLONG) {
			code = QQ_TOOLONG;
			*why = "fatal: address too long";
			break;
		}
		if (r != 0) {
			code = QQ_FORMAT;
			*why = type == 'F' ? "fatal: envelope format error: bad sender address"
			                   : "fatal: envelope format error: bad recipient address";
			break;
		}
		if (type == 'T' && ++nrcpt > QQ_RCPT_MAX) {
			code = QQ_REFUSE;
			*why = "fatal: too many recipients";
			break;
		}
		if (env->len + f.len > QQ_ENV_MAX) {
			code = QQ_REFUSE;
			*why = "fatal: envelope too large";
			break;
		}
		if (!str_catb(env, f.s, f.len)) {
			code = QQ_NOMEM;
			*why = "fatal: out of memory";
			break;
		}
	}
	str_free(&f);
	return code;
}
