/* Sender domains (doc/smtp.md, "Sender domains"): with
 * control/senderdomaincheck 1, the domain of a stranger's MAIL FROM must
 * be one mail can go back to.  Its MX, A and AAAA records are asked for at
 * once (dnsq.c); a domain that does not exist, or has neither an MX nor an
 * address, is refused with 550 5.1.8, one whose MX is null (RFC 7505: it
 * takes no mail) with 550 5.7.27, since a bounce to either could never be
 * delivered; a lookup that cannot say is 451, for the client to try again. */
#include <string.h>
#include "smtpd.h"
#include "dnsq.h"
#include "addr.h"

#define SENDER_WAIT_MS 5000

enum { Q_MX, Q_A, Q_AAAA, QUESTIONS };
_Static_assert(QUESTIONS == DNSQ_SENDER_QUESTIONS, "dnsq.h counts the sender's questions");

struct question {
	struct dnsq q;           /* first: dnsq hands take_records this */
	int rcode;               /* of the answer that settled it, or -1 */
	struct dns_rrs rrs;
};

static struct question questions[QUESTIONS];
/* The domain judged last this session (lower case) and its verdict, kept
 * when final: a 451 is looked at again at the next MAIL from it. */
static struct str last_domain;
static const char *last_verdict;

static enum dnsq_take take_records(struct dnsq *q, size_t ns, const unsigned char *m, size_t len)
{
	struct question *x = (struct question *)q;
	struct dns_rrs rrs;
	int rcode = dns_answer(m, len, q->query, q->qlen, &rrs);

	(void)ns;
	if (rcode == -1)
		return DNSQ_NOT_MINE;
	/* an empty answer counts only from a resolver or from the domain's
	 * own server, and only whole */
	if (rcode == 3 || (rcode == 0 && !((rrs.truncated || rrs.lame) && !rrs.na && !rrs.naaaa && !rrs.nmx &&
	                                   !rrs.null_mx))) {
		if (rrs.lame && rcode == 3)
			return DNSQ_FAILED;
		x->rcode = rcode;
		x->rrs = rrs;
		return DNSQ_SETTLED;
	}
	return DNSQ_FAILED; /* SERVFAIL, REFUSED, an empty truncated answer */
}

static const char *judge(void)
{
	const struct question *mx = &questions[Q_MX], *a = &questions[Q_A], *aaaa = &questions[Q_AAAA];
	int addresses = (a->rcode == 0 && a->rrs.na) || (aaaa->rcode == 0 && aaaa->rrs.naaaa);
	int i;

	if (mx->rcode == 0 && mx->rrs.null_mx && !mx->rrs.nmx)
		return "550 5.7.27 sender address has null MX";
	if ((mx->rcode == 0 && mx->rrs.nmx) || addresses)
		return 0;
	for (i = 0; i < QUESTIONS; i++)
		if (questions[i].rcode == 3)
			return "550 5.1.8 sender address rejected: domain not found";
	for (i = 0; i < QUESTIONS; i++)
		if (questions[i].rcode == -1)
			return "451 4.4.3 unable to look up the sender's domain now; try again later";
	return "550 5.1.8 sender address rejected: domain has no MX, A or AAAA record";
}

static int temporary(const char *verdict) { return verdict && verdict[0] == '4'; }

const char *sender_domain_refusal(const char *domain, size_t len)
{
	static const unsigned qtypes[QUESTIONS] = { DNS_T_MX, DNS_T_A, DNS_T_AAAA };
	struct dnsq *qs[QUESTIONS];
	static struct str ascii;
	unsigned char scratch[DNS_QUERY_MAX];
	char name[256];
	int i;

	i = dns_domain_name(domain, len, &ascii);
	if (i == 0)
		return 0;
	if (i == -1) /* in UTF-8 and no valid name: no DNS holds it, no bounce could reach it */
		return "550 5.1.8 sender address rejected: domain not found";
	len = ascii.len;
	if (len >= sizeof name)
		return "550 5.1.8 sender address rejected: domain not found";
	memcpy(name, ascii.s, len + 1);
	lowercase(name, len);
	/* a label over 63 bytes or a name over 253 is in no zone */
	if (!dns_query(scratch, sizeof scratch, 0, name, DNS_T_MX))
		return "550 5.1.8 sender address rejected: domain not found";
	for (i = 0; i < QUESTIONS; i++)
		qs[i] = &questions[i].q;
	if (last_domain.len == len && !memcmp(last_domain.s, name, len)) {
		if (!temporary(last_verdict))
			return last_verdict;
		/* answers that came after the last MAIL's wait still count */
		dnsq_wait(qs, QUESTIONS, SENDER_WAIT_MS);
		if (!temporary(last_verdict = judge()))
			return last_verdict;
	}
	for (i = 0; i < QUESTIONS; i++) {
		questions[i].rcode = -1;
		questions[i].q.take = take_records;
		(void)dnsq_ask(&questions[i].q, name, qtypes[i]); /* not asked: no answer, 451 */
	}
	dnsq_wait(qs, QUESTIONS, SENDER_WAIT_MS);
	last_verdict = judge();
	if (!str_copyb(&last_domain, name, len))
		last_domain.len = 0;
	return last_verdict;
}
