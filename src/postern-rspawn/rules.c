#include <string.h>
#include <sys/wait.h>
#include "rspawn.h"
#include "addr.h"
#include "case.h"
#include "envelope.h"
#include "esmtpdsn.h"
#include "fmt.h"
#include "uniq.h"
#include "netstring.h"

const char *rspawn_parse(const struct str *p, struct request *rq)
{
	static const char *f[REQ_FIELDS];
	static size_t fl[REQ_FIELDS];
	long nf;
	size_t pos = 1, dl, i, k, total = 0;
	unsigned long long job, n;

	if (!p->len || p->s[p->len - 1] != 0)
		return "payload does not end in NUL";
	nf = ns_split(p, f, fl, REQ_FIELDS);
	if (nf < 0)
		return "too many fields";
	if (nf < 8)
		return "too few fields";
	if (!domain_check(f[0], fl[0]))
		return "bad DOMAIN";
	dl = fl[0];
	rq->domain = f[0];
	rq->nm = 0;
	/* per message JOB QID SENDER MAILPARAMS N, then N pairs RCPT RCPTPARAMS */
	while (pos < (size_t)nf) {
		struct rmsg *m;
		if (rq->nm == MSGS_MAX)
			return "too many messages";
		if ((size_t)nf - pos < 7)
			return "too few fields";
		if (fl[pos] > JOB_MAX || !scan_ulong_all(f[pos], fl[pos], &job))
			return "bad JOB";
		if (!qid_valid(f[pos + 1], fl[pos + 1]))
			return "bad QID";
		if (envelope_sender_ok(f[pos + 2], fl[pos + 2]) != ENV_OK)
			return "bad SENDER";
		/* what postern-remote puts on MAIL and RCPT: only what
		 * dsn_mail_params and dsn_rcpt_params can write, so no byte of
		 * it can end the command or start another */
		if (!dsn_params_ok(f[pos + 3], fl[pos + 3], 0))
			return "bad MAILPARAMS";
		if (fl[pos + 4] > 3 || !scan_ulong_all(f[pos + 4], fl[pos + 4], &n) || n < 1 || n > RCPTS_MAX ||
		    n > ((size_t)nf - pos - 5) / 2)
			return "bad N";
		for (i = pos + 5; i < pos + 5 + 2 * n; i += 2) {
			size_t at = addr_at(f[i], fl[i]);
			if (addr_check(f[i], fl[i]) != ADDR_OK || fl[i] - at - 1 != dl ||
			    !case_eqn(f[i] + at + 1, f[0], dl))
				return "bad RECIPIENT";
			if (!dsn_params_ok(f[i + 1], fl[i + 1], 1))
				return "bad RCPTPARAMS";
		}
		for (k = 0; k < rq->nm; k++)
			if (strcmp(rq->m[k].job, f[pos]) == 0)
				return "a job id twice";
		if ((total += (size_t)n) > RCPTS_MAX)
			return "too many recipients";
		m = rq->m + rq->nm++;
		m->job = f[pos];
		m->qid = f[pos + 1];
		m->sender = f[pos + 2];
		m->params = f[pos + 3];
		m->n = (size_t)n;
		m->rcpt = f + pos + 5;
		pos += 5 + 2 * (size_t)n;
	}
	return 0;
}

size_t rspawn_split(const char *out, size_t olen, const size_t *n, size_t nm, size_t *start, size_t *len,
                    int *exact)
{
	size_t pos = 0, k, r;

	*exact = 0;
	for (k = 0; k < nm; k++) {
		size_t at = pos;
		for (r = 0; r < n[k] + 1; r++) {
			const char *z = at < olen ? memchr(out + at, 0, olen - at) : 0;
			if (!z)
				return k;
			at = (size_t)(z - out) + 1;
		}
		start[k] = pos;
		len[k] = at - pos;
		pos = at;
	}
	*exact = pos == olen;
	return nm;
}

static int cat_text(struct str *o, const char *s, size_t n)
{
	size_t i;
	if (n > RTEXT_MAX)
		n = RTEXT_MAX;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!str_catc(o, (c < 0x20 || c == 0x7f) ? ' ' : (char)c))
			return 0;
	}
	return str_catz(o);
}

int rspawn_result(struct str *o, const char *job, size_t n, const char *out, size_t olen, int status)
{
	const char *rec[RCPTS_MAX + 1];
	size_t rl[RCPTS_MAX + 1], nr = 0, pos = 0, i;
	int good = WIFEXITED(status) && WEXITSTATUS(status) == 0 && n <= RCPTS_MAX;

	while (good && pos < olen) {
		const char *z = memchr(out + pos, 0, olen - pos);
		if (!z || nr == n + 1) {
			good = 0;
			break;
		}
		rec[nr] = out + pos;
		rl[nr] = (size_t)(z - (out + pos));
		/* R (delivered, the DSN request ends there) is a recipient's
		 * status only: the message's record is K, Z or D */
		if (!rl[nr] || (rec[nr][0] != 'K' && rec[nr][0] != 'Z' && rec[nr][0] != 'D' &&
		                (rec[nr][0] != 'R' || nr == n)))
			good = 0;
		nr++;
		pos += rl[nr - 1] + 1;
	}
	if (nr != n + 1)
		good = 0;
	o->len = 0;
	if (!str_cats(o, job) || !str_catz(o))
		return 0;
	if (good) {
		/* the message's record first, then one per recipient */
		if (!str_catc(o, rec[n][0]) || !str_catz(o) || !cat_text(o, rec[n] + 1, rl[n] - 1))
			return 0;
		for (i = 0; i < n; i++)
			if (!str_catc(o, rec[i][0]) || !str_catz(o) || !cat_text(o, rec[i] + 1, rl[i] - 1))
				return 0;
		return 1;
	}
	{
		struct str t = STR_INIT;
		int ok;
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
			ok = str_cats(&t, "postern-remote gave malformed results");
		else if (WIFEXITED(status))
			ok = str_cats(&t, "postern-remote exited ") && str_catu(&t, (unsigned long long)WEXITSTATUS(status));
		else
			ok = str_cats(&t, "postern-remote killed by signal ") &&
			     str_catu(&t, (unsigned long long)(WIFSIGNALED(status) ? WTERMSIG(status) : 0));
		/* the message status X: no result, not a verdict on the host */
		ok = ok && str_catc(o, 'X') && str_catz(o) && cat_text(o, t.s, t.len);
		for (i = 0; ok && i < n; i++)
			ok = str_catc(o, 'Z') && str_catz(o) && cat_text(o, t.s, t.len);
		str_free(&t);
		return ok;
	}
}
