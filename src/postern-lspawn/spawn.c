#include <string.h>
#include <sys/wait.h>
#include "spawn.h"
#include "addr.h"
#include "envelope.h"
#include "esmtpdsn.h"
#include "fmt.h"
#include "uniq.h"
#include "username.h"

static int plain(const char *s, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

static int check_message(const char *const *f, const size_t *fl)
{
	unsigned long long job;
	if (!scan_ulong_all(f[0], fl[0], &job) || fl[0] > JOB_MAX)
		return 1;
	if (!qid_valid(f[1], fl[1]))
		return 2;
	/* any byte an address may hold: postern-local decides what may become a file name */
	if (fl[2] > EXT_MAX_ || !plain(f[2], fl[2]))
		return 3;
	if (addr_check(f[3], fl[3]) != ADDR_OK)
		return 4;
	if (envelope_sender_ok(f[4], fl[4]) != ENV_OK)
		return 5;
	/* what dsn_mail_params and dsn_rcpt_params write, and nothing else:
	 * postern-local puts them into a forward's envelope */
	if (!dsn_params_ok(f[5], fl[5], 0))
		return 6;
	if (!dsn_params_ok(f[6], fl[6], 1))
		return 7;
	return 0;
}

int spawn_check(const char *const *f, const size_t *fl, size_t nf)
{
	size_t k;
	if (nf < 1 + REQ_MSG_FIELDS || (nf - 1) % REQ_MSG_FIELDS != 0 || (nf - 1) / REQ_MSG_FIELDS > LOCAL_BATCH_MAX)
		return -1;
	if (!username_ok(f[0], fl[0]))
		return 1;
	for (k = 1; k < nf; k += REQ_MSG_FIELDS) {
		int bad = check_message(f + k, fl + k);
		if (bad)
			return (int)k + bad;
	}
	return 0;
}

const char *spawn_field_name(int bad)
{
	static const char *const names[REQ_MSG_FIELDS] = { "JOB", "QID", "EXT", "RECIPIENT", "SENDER",
	                                                   "MAILPARAMS", "RCPTPARAMS" };
	if (bad == -1)
		return "number of fields";
	if (bad == 1)
		return "USER";
	return bad > 1 ? names[(bad - 2) % REQ_MSG_FIELDS] : "field";
}

enum spawn_mode spawn_user_allowed(const char *name, unsigned long long uid,
                                   unsigned long long minuid, const char *vmail, const char *alias)
{
	if (uid == 0)
		return SPAWN_REFUSED;
	if (strcmp(name, vmail) == 0)
		return SPAWN_VIRTUAL;
	if (strcmp(name, alias) == 0)
		return SPAWN_ALIAS;
	return uid >= minuid ? SPAWN_USER : SPAWN_REFUSED;
}

/* text with control bytes made spaces, blanks trimmed, at most TEXT_MAX */
static size_t clean_text(const char *text, size_t tlen, char *out)
{
	size_t i, n = 0, a = 0;

	if (tlen > TEXT_MAX)
		tlen = TEXT_MAX;
	for (i = 0; i < tlen; i++) {
		unsigned char c = (unsigned char)text[i];
		out[n++] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
	}
	while (a < n && out[a] == ' ')
		a++;
	while (n > a && out[n - 1] == ' ')
		n--;
	if (a) {
		memmove(out, out + a, n - a);
		n -= a;
	}
	return n;
}

static size_t exit_text(int status, char *out)
{
	char num[FMT_ULONG];
	size_t n = 0;
#define PUT(s) do { size_t l_ = strlen(s); memcpy(out + n, (s), l_); n += l_; } while (0)
	if (status == SPAWN_RUNNING)
		PUT("postern-local gave a malformed result");
	else if (WIFSIGNALED(status)) {
		PUT("postern-local killed by signal ");
		num[fmt_ulong(num, (unsigned long long)WTERMSIG(status))] = 0;
		PUT(num);
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		PUT("postern-local gave no result");
	else {
		PUT("postern-local exited ");
		num[fmt_ulong(num, WIFEXITED(status) ? (unsigned long long)WEXITSTATUS(status) : 0)] = 0;
		PUT(num);
	}
#undef PUT
	return n;
}

size_t spawn_lines(const char *out, size_t len, size_t n)
{
	size_t k, pos = 0;

	for (k = 0; k < n; k++) {
		const char *nl = pos < len ? memchr(out + pos, '\n', len - pos) : 0;
		if (!nl)
			return 0;
		pos = (size_t)(nl - out) + 1;
	}
	return pos;
}

size_t spawn_results(const char *out, size_t len, size_t n, int status, struct spawn_result *r,
                     size_t *used)
{
	size_t k, pos = 0, good = 0;

	for (k = 0; k < n; k++) {
		const char *nl = pos < len ? memchr(out + pos, '\n', len - pos) : 0;
		size_t ll = nl ? (size_t)(nl - (out + pos)) : 0;
		const char *line = out + pos;

		if (nl && ll >= 1 && memchr("KHXDZ", line[0], 5) && (ll == 1 || line[1] == ' ')) {
			r[k].st = line[0];
			r[k].len = ll > 2 ? clean_text(line + 2, ll - 2, r[k].text) : 0;
			if (r[k].len == 0 && (r[k].st == 'K' || r[k].st == 'H' || r[k].st == 'X')) {
				memcpy(r[k].text, "delivered", 9);
				r[k].len = 9;
			} else if (r[k].len == 0 && status == SPAWN_RUNNING) {
				memcpy(r[k].text, "postern-local gave no reason", 28);
				r[k].len = 28;
			} else if (r[k].len == 0)
				r[k].len = exit_text(status, r[k].text);
			pos += ll + 1;
			good++;
			continue;
		}
		/* this line and all after it are unusable: the child broke off */
		pos = len;
		r[k].st = 'Z';
		r[k].len = exit_text(status, r[k].text);
	}
	if (used)
		*used = good == n ? pos : 0;
	return good;
}
