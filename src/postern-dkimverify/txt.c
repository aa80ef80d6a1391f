/* The TXT records a message's checks need: each signature's key record
 * (RFC 6376 3.6.2.2) and the DMARC policy records of the tree walks
 * (RFC 9989 4.10), each asked of every nameserver at once with the
 * others (src/lib/dnsq.c), over TCP when an answer is too long for UDP
 * (src/lib/dnsrr.c); KEYS_WAIT_MS for all of them, from the first
 * question.  An answer's records are hostile input: each is read with
 * every length checked, and only text goes on. */
#include <string.h>
#include "verify.h"
#include "dnsrr.h"
#include "die.h"
#include "qqfilter.h"
#include "seconds.h"

_Static_assert(TXT_SLOTS <= DNSQ_QUESTIONS_MAX, "a message's lookups fit dnsq.c");

struct question {
	struct dnsrr r;
	struct txt_answer a;
	int asked;
};
static struct question questions[TXT_SLOTS];
static long long deadline;     /* 0 until the first question */
static long long tcp_deadline; /* 0 until the first answer over TCP is wanted */

/* One record: a TXT record's strings joined, as RFC 6376 3.6.2.2 says. */
static int fill(void *ctx, unsigned type, const unsigned char *m, size_t len, size_t rd, size_t rdlen)
{
	struct txt_answer *a = ctx;
	size_t p = rd, end = rd + rdlen, all = 0;
	struct str *t;

	(void)len;
	if (type != DNS_T_TXT)
		return 0; /* a CNAME on the way: the resolver followed it */
	while (p < end) { /* the strings must tile the data exactly */
		size_t l = m[p++];
		if (l > end - p)
			return -1;
		all += l;
		p += l;
	}
	if (all > TXT_TEXT_MAX) {
		a->toolong++;
		return 0;
	}
	if (a->n == TXT_RECORDS_MAX)
		return 0;
	t = &a->txt[a->n++];
	t->len = 0;
	for (p = rd; p < end; p += 1 + m[p])
		if (!str_catb(t, (const char *)m + p + 1, m[p]))
			die(QF_NOMEM, "fatal: out of memory");
	return 0;
}

static void forget(void *ctx)
{
	struct txt_answer *a = ctx;
	a->n = 0;
	a->toolong = 0;
}

void txt_ask(size_t slot, const char *name)
{
	struct question *x = &questions[slot];

	if (!deadline)
		deadline = monotonic_ms() + KEYS_WAIT_MS;
	x->a.status = TXT_PENDING;
	x->a.nxdomain = 0;
	x->r.fill = fill;
	x->r.forget = forget;
	x->r.ctx = &x->a;
	/* too long a name, or no nameserver: that one asks nothing */
	x->asked = dnsrr_ask(&x->r, name, DNS_T_TXT) == 0;
	if (!x->asked)
		x->a.status = strlen(name) > 253 ? TXT_NONE : TXT_FAILED;
}

void txt_wait(void)
{
	struct dnsq *qs[TXT_SLOTS];
	long long left = deadline - monotonic_ms();
	size_t i, n = 0;

	for (i = 0; i < TXT_SLOTS; i++)
		if (questions[i].asked && questions[i].r.rcode == -1)
			qs[n++] = &questions[i].r.q;
	if (n && left > 0)
		dnsq_wait(qs, n, left);
	for (i = 0; i < TXT_SLOTS; i++) {
		struct question *x = &questions[i];
		int rcode;
		if (!x->asked)
			continue;
		/* TCP has time of its own: the UDP wait may have been spent on
		 * a nameserver that never answers another question */
		if (dnsrr_truncated(&x->r)) {
			if (!tcp_deadline)
				tcp_deadline = monotonic_ms() + TCP_WAIT_MS;
			dnsrr_tcp(&x->r, tcp_deadline);
		}
		rcode = dnsrr_end(&x->r);
		x->a.status = rcode == -1 ? TXT_FAILED : rcode == 0 && x->a.n ? TXT_FOUND : TXT_NONE;
		x->a.nxdomain = rcode == 3;
		x->asked = 0;
	}
}

const struct txt_answer *txt_answer(size_t slot)
{
	return &questions[slot].a;
}
