#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "envelope.h"
#include "addr.h"
#include "esmtpdsn.h"

int envelope_sender_ok(const char *a, size_t n)
{
	if (n == 0)
		return ENV_OK;
	/* qmail's double-bounce sender: a bounce that must not bounce again */
	if (n == 4 && memcmp(a, "#@[]", 4) == 0)
		return ENV_OK;
	switch (addr_check(a, n)) {
	case ADDR_OK: return ENV_OK;
	case ADDR_TOOLONG: return ENV_TOOLONG;
	default: return ENV_FORMAT;
	}
}

void envelope_free(struct envelope *env)
{
	free(env->rcpt);
	free(env->rcpt_len);
	free(env->notify);
	free(env->orcpt);
	free(env->orcpt_len);
	env->rcpt = 0;
	env->rcpt_len = 0;
	env->notify = 0;
	env->orcpt = 0;
	env->orcpt_len = 0;
	env->nrcpt = 0;
}

unsigned envelope_notify(const struct envelope *env, size_t i)
{
	return env->notify && env->notify[i] ? env->notify[i] : DSN_NOTIFY_DEFAULT;
}

size_t envelope_orcpt(const struct envelope *env, size_t i, const char **orcpt)
{
	if (!env->orcpt || !env->orcpt_len[i]) {
		*orcpt = "";
		return 0;
	}
	*orcpt = env->orcpt[i];
	return env->orcpt_len[i];
}

/* The record at buf[*pos..): its letter, its value and the value's length;
 * *pos moves past its NUL.  0 if there is none whole. */
static int record(const char *buf, size_t n, size_t *pos, char *letter, const char **v, size_t *vl)
{
	const char *z;

	if (*pos >= n)
		return 0;
	z = memchr(buf + *pos, 0, n - *pos);
	if (!z)
		return 0;
	*letter = buf[*pos];
	*v = buf + *pos + 1;
	*vl = z > *v ? (size_t)(z - *v) : 0;
	*pos = (size_t)(z - buf) + 1;
	return 1;
}

static int address_code(int r)
{
	return r == ADDR_OK ? ENV_OK : r == ADDR_TOOLONG ? ENV_TOOLONG : ENV_FORMAT;
}

/* Walks the whole envelope: with fill 0 it checks every record and counts
 * the recipients (and whether any has an N or O record); with fill 1 it
 * stores what the check found good. */
static int walk(struct envelope *env, const char *buf, size_t n, int fill, size_t *count, int *per_rcpt)
{
	size_t pos = 0, i = 0, vl;
	const char *v;
	char letter;
	unsigned notify = 0;
	const char *orcpt = 0;
	size_t orcpt_len = 0;
	int r;

	if (!record(buf, n, &pos, &letter, &v, &vl) || letter != 'F')
		return ENV_FORMAT;
	env->sender = v;
	env->sender_len = vl;
	if ((r = envelope_sender_ok(env->sender, env->sender_len)) != ENV_OK)
		return r;
	if (!record(buf, n, &pos, &letter, &v, &vl))
		return ENV_FORMAT;
	if (letter == 'R') {
		if (vl != 4 || !(env->ret = dsn_ret_parse(v, vl)) || memcmp(v, env->ret == DSN_RET_FULL ? "FULL" : "HDRS", 4))
			return ENV_FORMAT;
		if (!record(buf, n, &pos, &letter, &v, &vl))
			return ENV_FORMAT;
	}
	if (letter == 'E') {
		if (!dsn_envid_ok(v, vl))
			return ENV_FORMAT;
		env->envid = v;
		env->envid_len = vl;
		if (!record(buf, n, &pos, &letter, &v, &vl))
			return ENV_FORMAT;
	}
	if (letter == 'S') {
		if (vl != 0)
			return ENV_FORMAT;
		env->forwarded = 1;
		if (!record(buf, n, &pos, &letter, &v, &vl))
			return ENV_FORMAT;
	}
	for (;;) {
		if (letter == 0)
			break; /* the final lone NUL */
		if (letter == 'N') {
			if (!(notify = dsn_notify_canonical(v, vl)))
				return ENV_FORMAT;
			*per_rcpt = 1;
			if (!record(buf, n, &pos, &letter, &v, &vl))
				return ENV_FORMAT;
		}
		if (letter == 'O') {
			if (!dsn_orcpt_ok(v, vl))
				return ENV_FORMAT;
			orcpt = v;
			orcpt_len = vl;
			*per_rcpt = 1;
			if (!record(buf, n, &pos, &letter, &v, &vl))
				return ENV_FORMAT;
		}
		if (letter != 'T')
			return ENV_FORMAT;
		if ((r = address_code(addr_check(v, vl))) != ENV_OK)
			return r;
		if (fill) {
			env->rcpt[i] = v;
			env->rcpt_len[i] = vl;
			if (env->notify) {
				env->notify[i] = (unsigned char)notify;
				env->orcpt[i] = orcpt;
				env->orcpt_len[i] = orcpt_len;
			}
		}
		i++;
		notify = 0;
		orcpt = 0;
		orcpt_len = 0;
		if (!record(buf, n, &pos, &letter, &v, &vl))
			return ENV_FORMAT;
	}
	if (pos != n || i == 0)
		return ENV_FORMAT;
	*count = i;
	return ENV_OK;
}

int envelope_parse(struct envelope *env, const char *buf, size_t n)
{
	size_t count = 0;
	int per_rcpt = 0, r;

	memset(env, 0, sizeof *env);
	if ((r = walk(env, buf, n, 0, &count, &per_rcpt)) != ENV_OK)
		return r;
	if (count > SIZE_MAX / sizeof(size_t))
		return ENV_FORMAT;
	env->rcpt = malloc(count * sizeof *env->rcpt);
	env->rcpt_len = malloc(count * sizeof *env->rcpt_len);
	if (per_rcpt) {
		env->notify = calloc(count, 1);
		env->orcpt = calloc(count, sizeof *env->orcpt);
		env->orcpt_len = calloc(count, sizeof *env->orcpt_len);
	}
	if (!env->rcpt || !env->rcpt_len || (per_rcpt && (!env->notify || !env->orcpt || !env->orcpt_len))) {
		envelope_free(env);
		return -1;
	}
	(void)walk(env, buf, n, 1, &count, &per_rcpt);
	env->nrcpt = count;
	return ENV_OK;
}
