/* libFuzzer target for MTA-STS (src/lib/mtasts.c): the TXT record comes
 * from a stranger's DNS, the HTTP response and the policy in it from a
 * stranger's web server, and the cache file holds what such a fetch
 * wrote.  The first byte chooses what the rest is read as:
 *  0: a TXT record: 1 only with an id of 1-32 letters and digits that
 *     "v=STSv1; id=ID" gives back again, the id empty otherwise, and
 *     anything but 0 only from a text starting with 'v';
 *  1: a policy: one read has its mode and max_age in range, 1 to 16 mx
 *     patterns (none only for mode none), each lower-case LDH labels of
 *     at most 63 bytes, at most 253 in all, "*." only as the whole first
 *     label, no trailing dot; each pattern matches the host made of it
 *     ('*' as "a"), in upper case too and with a trailing dot, and the
 *     policy written out in canonical form reads back the same; one
 *     refused is zeroed, with a reason;
 *  2: an HTTP response: one read gives at most 64 KB, either the tail of
 *     the input or the decoded chunks in dec, from a text starting with
 *     "HTTP/1."; one refused gives no body and a reason; a body read is
 *     then parsed as a policy, as above;
 *  3: a cache file: one read names an id the TXT reader would take, a
 *     time not negative and a body at its end, and written again is the
 *     same bytes; and, the input taken as an id (its first byte a
 *     length, the next that many as letters and digits), a time and a
 *     body, written and read back gives them again.
 * Built and run by tests/fuzz.sh. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "mtasts.h"

static const char alnum[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

static int is_alnum(char c) { return c && memchr(alnum, c, sizeof alnum - 1); }

static void check_id(const char *id)
{
	size_t i, n = strlen(id);

	if (n == 0 || n > MTASTS_ID_MAX)
		abort();
	for (i = 0; i < n; i++)
		if (!is_alnum(id[i]))
			abort();
}

static void check_txt(const char *t, size_t n)
{
	char id[MTASTS_ID_MAX + 1], again[MTASTS_ID_MAX + 1], rec[64];
	int r = mtasts_txt(t, n, id);
	size_t l;

	if (r < -1 || r > 1 || (r != 0 && (n == 0 || t[0] != 'v')))
		abort();
	if (r != 1) {
		if (id[0])
			abort();
		return;
	}
	check_id(id);
	l = strlen(id);
	memcpy(rec, "v=STSv1; id=", 12);
	memcpy(rec + 12, id, l);
	if (mtasts_txt(rec, 12 + l, again) != 1 || strcmp(id, again) != 0)
		abort();
}

static void check_pattern(const char *m)
{
	const char *z = memchr(m, 0, MTASTS_NAME_MAX + 1);
	size_t n, i = 0, label = 0;

	if (!z || (n = (size_t)(z - m)) == 0)
		abort();
	if (m[0] == '*') {
		if (n < 3 || m[1] != '.')
			abort();
		i = 2;
	}
	if (m[n - 1] == '.')
		abort();
	for (; i <= n; i++) {
		if (i == n || m[i] == '.') {
			if (label == 0 || label > 63 || m[i - 1] == '-' || m[i - label] == '-')
				abort();
			label = 0;
		} else if ((m[i] >= 'a' && m[i] <= 'z') || (m[i] >= '0' && m[i] <= '9') || m[i] == '-') {
			label++;
		} else {
			abort();
		}
	}
}

static void check_policy(const char *b, size_t n)
{
	static struct mtasts_policy p, again;
	static const struct mtasts_policy zero;
	static char out[MTASTS_MX_MAX * (MTASTS_NAME_MAX + 6) + 128];
	char host[MTASTS_NAME_MAX + 2];
	const char *why = 0;
	size_t i, k, l, len = 0;

	if (mtasts_policy_parse(b, n, &p, &why) != 0) {
		if (!why || !why[0] || memcmp(&p, &zero, sizeof p) != 0)
			abort();
		return;
	}
	if ((unsigned)p.mode > MTASTS_ENFORCE || p.max_age > MTASTS_MAXAGE_MAX || p.nmx > MTASTS_MX_MAX ||
	    (p.nmx == 0 && p.mode != MTASTS_NONE))
		abort();
	for (i = 0; i < p.nmx; i++) {
		check_pattern(p.mx[i]);
		l = strlen(p.mx[i]);
		memcpy(host, p.mx[i], l + 1);
		if (host[0] == '*')
			host[0] = 'a';
		if (!mtasts_mx_match(&p, host, l))
			abort();
		for (k = 0; k < l; k++)
			if (host[k] >= 'a' && host[k] <= 'z')
				host[k] = (char)(host[k] - 32);
		host[l] = '.';
		if (!mtasts_mx_match(&p, host, l + 1))
			abort();
	}
	/* the canonical form reads back the same */
#define CAT(s, l_) do { memcpy(out + len, s, l_); len += l_; } while (0)
	CAT("version: STSv1\nmode: ", 21);
	if (p.mode == MTASTS_ENFORCE)
		CAT("enforce\n", 8);
	else if (p.mode == MTASTS_TESTING)
		CAT("testing\n", 8);
	else
		CAT("none\n", 5);
	CAT("max_age: ", 9);
	{
		char d[10];
		unsigned long a = p.max_age;
		size_t nd = 0;
		do {
			d[sizeof d - 1 - nd++] = (char)('0' + a % 10);
			a /= 10;
		} while (a);
		CAT(d + sizeof d - nd, nd);
	}
	CAT("\n", 1);
	for (i = 0; i < p.nmx; i++) {
		CAT("mx: ", 4);
		CAT(p.mx[i], strlen(p.mx[i]));
		CAT("\n", 1);
	}
#undef CAT
	if (mtasts_policy_parse(out, len, &again, &why) != 0 || memcmp(&p, &again, sizeof p) != 0)
		abort();
}

static void check_http(const char *b, size_t n)
{
	static struct str dec = STR_INIT;
	const char *body = (const char *)1, *why = 0;
	size_t len = 1;

	if (mtasts_http_response(b, n, &dec, &body, &len, &why) != 0) {
		if (body || len || !why || !why[0])
			abort();
		return;
	}
	if (len > MTASTS_BODY_MAX || n < 7 || memcmp(b, "HTTP/1.", 7) != 0 || !body)
		abort();
	if (body == dec.s) {
		if (len != dec.len)
			abort();
	} else if (body < b || body > b + n || (size_t)(b + n - body) != len) {
		abort();
	}
	check_policy(body, len);
}

static void check_cache(const uint8_t *data, size_t size)
{
	static struct str out = STR_INIT;
	char id[MTASTS_ID_MAX + 1], got[MTASTS_ID_MAX + 1], want[MTASTS_ID_MAX + 2];
	long long fetched, t;
	const char *body, *b;
	size_t len, l, k, i;
	uint64_t u = 0;

	if (mtasts_cache_parse((const char *)data, size, id, &fetched, &body, &len) == 0) {
		check_id(id);
		if (fetched < 0 || len > MTASTS_BODY_MAX || body < (const char *)data ||
		    body + len != (const char *)data + size)
			abort();
		if (!mtasts_cache_format(&out, id, fetched, body, len) || out.len != size || memcmp(out.s, data, size) != 0)
			abort();
	} else if (id[0] || body || len || fetched) {
		abort();
	}

	/* the input as an id, a time and a body */
	if (size < 1)
		return;
	l = data[0] % (MTASTS_ID_MAX + 2); /* 0 and 33: ids refused */
	if (size < 1 + l + 8)
		return;
	for (i = 0; i < l; i++)
		want[i] = alnum[data[1 + i] % (sizeof alnum - 1)];
	want[l] = 0;
	for (i = 0; i < 8; i++)
		u = u << 8 | data[1 + l + i];
	t = (long long)u; /* the conversion of a value over LLONG_MAX: implementation-defined, two's complement here */
	k = 1 + l + 8;
	errno = 0;
	if (!mtasts_cache_format(&out, want, t, (const char *)data + k, size - k)) {
		if (errno != EINVAL || (l >= 1 && l <= MTASTS_ID_MAX && t >= 0))
			abort();
		return;
	}
	if (l < 1 || l > MTASTS_ID_MAX || t < 0)
		abort();
	if (mtasts_cache_parse(out.s, out.len, got, &fetched, &b, &len) != 0 || strcmp(got, want) != 0 || fetched != t ||
	    len != size - k || memcmp(b, data + k, len) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % 4) {
	case 0:
		check_txt((const char *)data + 1, size - 1);
		break;
	case 1:
		check_policy((const char *)data + 1, size - 1);
		break;
	case 2:
		check_http((const char *)data + 1, size - 1);
		break;
	case 3:
		check_cache(data + 1, size - 1);
		break;
	}
	return 0;
}
