#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "envelope.h"
#include "addr.h"

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
	env->rcpt = 0;
	env->rcpt_len = 0;
	env->nrcpt = 0;
}

int envelope_parse(struct envelope *env, const char *buf, size_t n)
{
	size_t pos, count = 0, i;
	const char *z;

	env->rcpt = 0;
	env->rcpt_len = 0;
	env->nrcpt = 0;
	if (n < 3 || buf[0] != 'F')
		return ENV_FORMAT;
	z = memchr(buf, 0, n);
	if (!z)
		return ENV_FORMAT;
	env->sender = buf + 1;
	env->sender_len = (size_t)(z - buf) - 1;
	if (envelope_sender_ok(env->sender, env->sender_len) != ENV_OK)
		return envelope_sender_ok(env->sender, env->sender_len);
	/* first pass: count and check */
	pos = (size_t)(z - buf) + 1;
	for (;;) {
		size_t len;
		int r;
		if (pos >= n)
			return ENV_FORMAT;
		if (buf[pos] == 0)
			break;
		if (buf[pos] != 'T')
			return ENV_FORMAT;
		z = memchr(buf + pos, 0, n - pos);
		if (!z)
			return ENV_FORMAT;
		len = (size_t)(z - (buf + pos)) - 1;
		r = addr_check(buf + pos + 1, len);
		if (r == ADDR_TOOLONG)
			return ENV_TOOLONG;
		if (r != ADDR_OK)
			return ENV_FORMAT;
		count++;
		pos += len + 2;
	}
	if (pos + 1 != n || count == 0)
		return ENV_FORMAT;
	if (count > SIZE_MAX / sizeof(size_t))
		return ENV_FORMAT;
	env->rcpt = malloc(count * sizeof *env->rcpt);
	env->rcpt_len = malloc(count * sizeof *env->rcpt_len);
	if (!env->rcpt || !env->rcpt_len) {
		envelope_free(env);
		return -1;
	}
	pos = env->sender_len + 2;
	for (i = 0; i < count; i++) {
		size_t len = strlen(buf + pos + 1);
		env->rcpt[i] = buf + pos + 1;
		env->rcpt_len[i] = len;
		pos += len + 2;
	}
	env->nrcpt = count;
	return ENV_OK;
}
