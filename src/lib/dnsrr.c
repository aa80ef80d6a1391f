/* A question answered by its records: see dnsrr.h. */
#include "dnsrr.h"

static enum dnsq_take take(struct dnsq *q, size_t ns, const unsigned char *m, size_t len)
{
	struct dnsrr *r = (struct dnsrr *)q;
	int flags, rcode;

	if (!r->open || r->rcode != -1)
		return DNSQ_NOT_MINE;
	r->forget(r->ctx);
	rcode = dns_records(m, len, q->query, q->qlen, &flags, r->fill, r->ctx);
	if (rcode == -1) {
		r->forget(r->ctx);
		return DNSQ_NOT_MINE;
	}
	if ((rcode == 0 || rcode == 3) && !(flags & (DNS_TRUNCATED | DNS_LAME))) {
		r->rcode = rcode;
		return DNSQ_SETTLED;
	}
	r->forget(r->ctx);
	if (flags & DNS_TRUNCATED) {
		/* the UDP part is over: the same question goes over TCP to this
		 * nameserver, not after the others' silence */
		r->truncated = 1 + (int)ns;
		return DNSQ_SETTLED;
	}
	/* SERVFAIL, REFUSED, no recursion: another nameserver may do better */
	return DNSQ_FAILED;
}

int dnsrr_ask(struct dnsrr *r, const char *name, unsigned qtype)
{
	r->rcode = -1;
	r->truncated = 0;
	r->q.take = take;
	r->q.edns = 1;
	r->open = dnsq_ask(&r->q, name, qtype) == 0;
	return r->open ? 0 : -1;
}

int dnsrr_truncated(const struct dnsrr *r)
{
	return r->open && r->rcode == -1 && r->truncated;
}

void dnsrr_tcp(struct dnsrr *r, long long deadline_ms)
{
	if (dnsrr_truncated(r))
		(void)dnsq_tcp(&r->q, (size_t)r->truncated - 1, deadline_ms);
}

int dnsrr_end(struct dnsrr *r)
{
	r->open = 0;
	if (r->rcode == -1)
		r->forget(r->ctx);
	return r->rcode;
}
