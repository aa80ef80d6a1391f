/* Each signature's key record (RFC 6376 3.6.2.2), asked of every
 * nameserver at once with the others (src/lib/dnsq.c), over TCP when an
 * answer is too long for UDP.  An answer's records are hostile input:
 * each is read with every length checked, and only text goes on. */
#include <string.h>
#include "verify.h"
#include "dnsq.h"
#include "die.h"
#include "seconds.h"

_Static_assert(DKIMV_SIGS_MAX <= DNSQ_QUESTIONS_MAX, "a message's key lookups fit dnsq.c");

struct question {
	struct dnsq q;          /* first: dnsq.c hands back its address */
	struct key_answer a;
	int asked;
	int truncated;          /* 1 + the nameserver whose UDP answer was cut */
};
static struct question questions[DKIMV_SIGS_MAX];

/* One record: a TXT record's strings joined, as RFC 6376 3.6.2.2 says. */
static int fill(void *ctx, unsigned type, const unsigned char *m, size_t len, size_t rd, size_t rdlen)
{
	struct key_answer *a = ctx;
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
	if (all > KEY_TEXT_MAX) {
		a->toolong++;
		return 0;
	}
	if (a->n == KEY_TXT_MAX)
		return 0;
	t = &a->txt[a->n++];
	t->len = 0;
	for (p = rd; p < end; p += 1 + m[p])
		if (!str_catb(t, (const char *)m + p + 1, m[p]))
			die_nomem();
	return 0;
}

static void forget(struct key_answer *a)
{
	a->n = 0;
	a->toolong = 0;
}

static enum dnsq_take take(struct dnsq *q, size_t ns, const unsigned char *m, size_t len)
{
	struct question *x = (struct question *)q;
	int flags, rcode;

	if (x->a.status != KEY_PENDING)
		return DNSQ_NOT_MINE;
	forget(&x->a);
	rcode = dns_records(m, len, q->query, q->qlen, &flags, fill, &x->a);
	if (rcode == -1) {
		forget(&x->a);
		return DNSQ_NOT_MINE;
	}
	if ((rcode == 0 || rcode == 3) && !(flags & (DNS_TRUNCATED | DNS_LAME))) {
		x->a.status = rcode == 0 && x->a.n ? KEY_FOUND : KEY_NONE;
		return DNSQ_SETTLED;
	}
	forget(&x->a);
	if (flags & DNS_TRUNCATED) {
		/* the UDP part is over: the same question goes over TCP to
		 * this nameserver once the others are in */
		x->truncated = 1 + (int)ns;
		return DNSQ_SETTLED;
	}
	return DNSQ_FAILED;
}

void keys_ask(size_t i, const char *domain, const char *selector)
{
	struct question *x = &questions[i];
	struct str name = STR_INIT;

	x->a.status = KEY_PENDING;
	x->truncated = 0;
	x->q.take = take;
	x->q.edns = 1;
	if (!str_cats(&name, selector) || !str_cats(&name, "._domainkey.") || !str_cats(&name, domain) ||
	    !str_catz(&name))
		die_nomem();
	/* too long a name, or no nameserver: that one asks nothing */
	x->asked = dnsq_ask(&x->q, name.s, DNS_T_TXT) == 0;
	if (!x->asked)
		x->a.status = name.len > 254 ? KEY_NONE : KEY_FAILED;
	str_free(&name);
}

void keys_wait(void)
{
	struct dnsq *qs[DKIMV_SIGS_MAX];
	long long deadline = monotonic_ms() + KEYS_WAIT_MS;
	size_t i, n = 0;

	for (i = 0; i < DKIMV_SIGS_MAX; i++)
		if (questions[i].asked)
			qs[n++] = &questions[i].q;
	if (n)
		dnsq_wait(qs, n, KEYS_WAIT_MS);
	for (i = 0; i < DKIMV_SIGS_MAX; i++) {
		struct question *x = &questions[i];
		if (!x->asked)
			continue;
		if (x->a.status == KEY_PENDING && x->truncated)
			(void)dnsq_tcp(&x->q, (size_t)x->truncated - 1, deadline);
		if (x->a.status == KEY_PENDING) {
			forget(&x->a);
			x->a.status = KEY_FAILED;
		}
		x->asked = 0; /* a late answer has no one to tell */
	}
}

const struct key_answer *keys_answer(size_t i)
{
	return &questions[i].a;
}
