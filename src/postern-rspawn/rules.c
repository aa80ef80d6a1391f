#include <string.h>
#include <sys/wait.h>
#include "rspawn.h"
#include "addr.h"
#include "case.h"
#include "envelope.h"
#include "fmt.h"
#include "uniq.h"

const char *rspawn_parse(const struct str *p, struct request *rq)
{
	const char *f[4 + RCPTS_MAX];
	size_t fl[4 + RCPTS_MAX], nf = 0, pos = 0, i, dl;
	unsigned long long job;

	if (!p->len || p->s[p->len - 1] != 0)
		return "payload does not end in NUL";
	while (pos < p->len) {
		const char *z = memchr(p->s + pos, 0, p->len - pos);
		if (nf == 4 + RCPTS_MAX)
			return "too many recipients";
		f[nf] = p->s + pos;
		fl[nf] = (size_t)(z - (p->s + pos));
		nf++;
		pos += fl[nf - 1] + 1;
	}
	if (nf < 5)
		return "too few fields";
	if (fl[0] > JOB_MAX || !scan_ulong_all(f[0], fl[0], &job))
		return "bad JOB";
	if (!qid_valid(f[1], fl[1]))
		return "bad QID";
	if (envelope_sender_ok(f[2], fl[2]) != ENV_OK)
		return "bad SENDER";
	if (!domain_check(f[3], fl[3]))
		return "bad DOMAIN";
	dl = fl[3];
	for (i = 4; i < nf; i++) {
		size_t at = addr_at(f[i], fl[i]);
		if (addr_check(f[i], fl[i]) != ADDR_OK || fl[i] - at - 1 != dl || !case_eqn(f[i] + at + 1, f[3], dl))
			return "bad RECIPIENT";
	}
	rq->job = f[0];
	rq->qid = f[1];
	rq->sender = f[2];
	rq->domain = f[3];
	rq->n = nf - 4;
	for (i = 0; i < rq->n; i++)
		rq->rcpt[i] = f[4 + i];
	return 0;
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
		if (!rl[nr] || (rec[nr][0] != 'K' && rec[nr][0] != 'Z' && rec[nr][0] != 'D'))
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
