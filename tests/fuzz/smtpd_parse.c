/* libFuzzer target for postern-smtpd's parser (src/postern-smtpd/parse.c):
 * the first byte picks what to feed, the rest is the input.  Besides the
 * sanitizers' checks it asserts the parser's own promises: results within
 * bounds, body output never larger than promised, the DATA end marker only
 * after CRLF "." CRLF, and the stop at the header's end (submission's
 * fields) changing nothing else, and DSN parameters taken only when the
 * records they make are ones postern-queue's envelope_parse takes, with
 * the same values.  Built and run by tests/fuzz.sh. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "parse.h"
#include "addr.h"
#include "sasl.h"
#include "base64.h"
#include "utf8.h"
#include "envelope.h"

/* One pass over d in pieces of step bytes; the output, concatenated, in
 * all.  With stop, the stop at the header's blank line too: at most once,
 * only in the header, taking nothing more than the blank line's CR. */
static size_t body_pass(const uint8_t *d, size_t n, int bdat, size_t step, int stop, char *out, char *all,
                        struct body *b)
{
	size_t i = 0, total = 0;
	int stops = 0;

	body_init(b, bdat);
	b->stop_at_blank = stop;
	while (i < n && !b->done) {
		size_t k = n - i < step ? n - i : step, used, o;
		o = body_feed(b, (const char *)d + i, k, out, &used);
		if (o > k + 1 || used > k || (used == 0 && k && !b->done && !b->at_blank))
			abort();
		if (b->done && (i + used < 5 || memcmp(d + i + used - 3, ".\r\n", 3) != 0 ||
		               d[i + used - 4] != '\n' || d[i + used - 5] != '\r'))
			if (!(i + used == 3 && memcmp(d, ".\r\n", 3) == 0))
				abort();
		if (b->at_blank) {
			if (!stop || stops++ || !b->in_headers || b->not_a_header || d[i + used] != '\n')
				abort();
			b->at_blank = 0;
		}
		memcpy(all + total, out, o);
		total += o;
		i += used;
	}
	return total;
}

/* The body both ways: the stop changes nothing of what comes out, nor of
 * what the header was found to lack. */
static void body(const uint8_t *d, size_t n, int bdat, size_t step)
{
	struct body plain, stopped;
	char *out = malloc(n + 2), *all = malloc(2 * n + 2), *all2 = malloc(2 * n + 2);
	size_t t1, t2;

	if (out && all && all2) {
		t1 = body_pass(d, n, bdat, step, 0, out, all, &plain);
		t2 = body_pass(d, n, bdat, step, 1, out, all2, &stopped);
		if (t1 != t2 || memcmp(all, all2, t1) != 0 || body_missing(&plain) != body_missing(&stopped) ||
		    plain.done != stopped.done || plain.bad != stopped.bad || plain.hops != stopped.hops)
			abort();
		if (bdat && plain.done)
			abort();
	}
	free(out);
	free(all);
	free(all2);
}

/* One DSN parameter of MAIL (rcpt 0) or RCPT (rcpt 1) into d; once all
 * of a command's are taken, dsn_check puts its records in an envelope
 * that must parse back to them. */
static void dsn_take(struct dsn_args *d, int rcpt, const char *k, size_t kl, const char *v, size_t vl)
{
	const char *why = 0;
	int r = dsn_arg_take(d, rcpt, k, kl, v, vl, &why);

	if (r < -1 || r > 1 || (r == -1 && (!why || strncmp(why, "501 5.5.4 ", 10) != 0)))
		abort();
}

static void dsn_check(const struct dsn_args *d, int rcpt)
{
	struct str env = STR_INIT;
	struct envelope e;
	const char *o;

	if (!str_copys(&env, "Fa@b.example") || !str_catz(&env) || !dsn_records_cat(&env, d, rcpt) ||
	    !str_cats(&env, "Tx@y.example") || !str_catz(&env) || !str_catz(&env))
		abort();
	if (envelope_parse(&e, env.s, env.len) != ENV_OK)
		abort();
	if (rcpt ? envelope_notify(&e, 0) != (d->notify ? d->notify : DSN_NOTIFY_DEFAULT) ||
	               envelope_orcpt(&e, 0, &o) != d->orcpt_len || memcmp(o, d->orcpt ? d->orcpt : "", d->orcpt_len)
	         : e.ret != d->ret || e.envid_len != d->envid_len || memcmp(e.envid ? e.envid : "", d->envid ? d->envid : "", d->envid_len))
		abort();
	envelope_free(&e);
	str_free(&env);
}

/* SMTP AUTH's decoding (sasl.c): fields inside the buffer, a taken name a
 * login name, and the canonical base64 given back by re-encoding. */
static void sasl(const char *s, size_t n, int which)
{
	static struct sasl a;
	static char again[2 * SASL_LINE_MAX];
	size_t resp, at;
	int r;

	(void)sasl_mechanism(s, n, &resp);
	if (resp > n)
		abort();
	r = which ? sasl_login_user(s, n, &a) : sasl_plain(s, n, &a);
	if (r == SASL_SYNTAX)
		return;
	if (a.len > SASL_MAX || (const unsigned char *)a.user < a.buf || (const unsigned char *)a.user + a.ulen > a.buf + a.len)
		abort();
	if (!(n == 1 && s[0] == '=') &&
	    (b64_encode(a.buf, a.len, again, sizeof again) != n || memcmp(again, s, n) != 0))
		abort();
	if (r == SASL_OK && !login_name(a.user, a.ulen, &at))
		abort();
	if (which && sasl_login_pass(s, n, &a) != SASL_SYNTAX &&
	    ((const unsigned char *)a.pass < a.buf || (const unsigned char *)a.pass + a.plen > a.buf + a.len))
		abort();
	if (!which && r == SASL_OK && (a.plen == 0 || a.plen > PASSWORD_MAX ||
	                               (const unsigned char *)a.pass + a.plen != a.buf + a.len))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data + 1;
	size_t n, arg, rest, pos;
	struct path p = { STR_INIT, 0, 0, 0 };
	const char *k, *v;
	size_t kl, vl;
	unsigned long long u;
	int last, r;
	unsigned char bin[16];
	struct dsn_args dsn;

	if (size < 1)
		return 0;
	n = size - 1;
	switch (data[0] % 10) {
	case 0:
		(void)parse_verb(s, n, &arg);
		if (arg > n)
			abort();
		(void)line_bad_bytes(s, n);
		(void)parse_helo(s, n);
		/* every line parse_verb takes for BDAT, line_is_bdat must too */
		if (parse_verb(s, n, &arg) == V_BDAT && !line_is_bdat(s, n))
			abort();
		break;
	case 1: case 2:
		r = parse_path(s, n, data[0] % 10 == 1 ? "from:" : "to:", &p, &rest);
		if (r == P_OK) {
			if (rest > n || p.at > p.addr.len || p.addr.len > PATH_MAX_)
				abort();
			if (p.at < p.addr.len && p.addr.s[p.at] != '@')
				abort();
			if (p.addr.len && p.at < p.addr.len)
				(void)addr_check(p.addr.s, p.addr.len);
			pos = rest;
			dsn_args_init(&dsn);
			while ((r = parse_param(s, n, &pos, &k, &kl, &v, &vl)) == 1) {
				if (pos > n || kl == 0 || k < s || k + kl > s + n || (v && v + vl > s + n))
					abort();
				dsn_take(&dsn, data[0] % 10 == 2, k, kl, v, vl);
			}
			dsn_check(&dsn, data[0] % 10 == 2);
		}
		str_free(&p.addr);
		break;
	case 3:
		(void)parse_bdat(s, n, &u, &last);
		(void)literal_addr(s, n, bin);
		(void)utf8_valid(s, n);
		(void)xtext_ok(s, n);
		break;
	case 4: body((const uint8_t *)s, n, 0, 1); break;
	case 5: body((const uint8_t *)s, n, 0, 7); break;
	case 6: body((const uint8_t *)s, n, 1, 3); break;
	case 7: body((const uint8_t *)s, n, 0, 4096); break;
	case 8: sasl(s, n, 0); break;
	case 9: sasl(s, n, 1); break;
	}
	return 0;
}
