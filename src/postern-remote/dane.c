/* Policy dane of control/remotetls (RFC 7672): each host's TLSA records,
 * looked up with DNSSEC, decide how that host is spoken to.
 *
 *   the names insecure (an MX answer without the AD bit), or the host's
 *   addresses insecure, or no TLSA records, or records without the AD
 *   bit: may (RFC 7672 2.2: opportunistic, as without DANE);
 *   secure records none of which postern can use: encrypt (2.2: TLS is
 *   required, but nothing can be authenticated);
 *   secure usable records: dane, the certificate must match one of them
 *   (postern-tlsio), and nothing goes in clear;
 *   the TLSA lookup failed (a resolver's SERVFAIL, which is also what a
 *   validating resolver answers for records that fail validation): the
 *   host fails for now, since an attacker who can drop the answer must
 *   not get the mail in clear.
 *
 * The records are looked up for the name the address came from: the MX
 * host, or the host of a route of control/smtproutes (whose name the
 * admin wrote, so it counts as secure).  When that name is an alias
 * (its address records came with a CNAME chain, all of it secure), the
 * CNAME's target is tried first and the original name only when the
 * target has no TLSA records (RFC 7672 2.2.3); the name the records were
 * found at goes to the engine, as SNI and as the name a DANE-TA chain
 * must bear. */
#include <string.h>
#include "remote.h"
#include "case.h"
#include "die.h"
#include "log.h"

enum tls_policy tls_effective(enum tls_policy job, const struct addr *a)
{
	return job == TLS_DANE || job == TLS_STS || job == TLS_DANE_STS ? a->tls : job;
}

static void dane_log(const char *qid, const struct addr *a, const char *state, size_t usable, size_t total)
{
	struct logline l = { STR_INIT };

	log_begin(&l, "dane");
	log_kv(&l, "qid", qid);
	log_kv(&l, "mx", a->host);
	if (a->tlsa_name[0] && strcmp(a->tlsa_name, a->host) != 0)
		log_kv(&l, "tlsa_name", a->tlsa_name); /* the CNAME's target had them */
	log_kv(&l, "state", state);
	if (total) {
		log_kvu(&l, "usable", usable);
		log_kvu(&l, "records", total);
	}
	log_kv(&l, "policy", a->tlsa_temp ? "defer" : tls_policy_name(a->tls));
	log_end(&l);
}

/* One host's plan into a (the first address of that host). */
static void plan_host(struct addr *a, int names_secure, const char *qid)
{
	struct str list = STR_INIT;
	size_t usable = 0, total = 0;
	int secure = 0;
	enum dns_result r;

	a->tls = TLS_MAY;
	a->tlsa_temp = 0;
	a->tlsa_len = 0;
	a->tlsa_name[0] = 0;
	if (!names_secure) {
		dane_log(qid, a, "insecure_mx", 0, 0);
		return;
	}
	if (a->host[0] == '[') {
		dane_log(qid, a, "address_literal", 0, 0);
		return;
	}
	if (!a->secure) {
		dane_log(qid, a, "insecure_address", 0, 0);
		return;
	}
	r = DNS_NODATA;
	if (a->target[0] && !case_eqb(a->target, strlen(a->target), a->host, strlen(a->host))) {
		r = dns_tlsa(a->target, a->port, &list, &usable, &total, &secure);
		if (r == DNS_OK)
			memcpy(a->tlsa_name, a->target, strlen(a->target) + 1);
	}
	if (r == DNS_NODATA || r == DNS_NXDOMAIN) {
		r = dns_tlsa(a->host, a->port, &list, &usable, &total, &secure);
		if (r == DNS_OK)
			memcpy(a->tlsa_name, a->host, strlen(a->host) + 1);
	}
	if (r == DNS_TEMP) {
		a->tls = TLS_NONE;
		a->tlsa_temp = 1;
		dane_log(qid, a, "tlsa_lookup_failed", 0, 0);
	} else if (r != DNS_OK) {
		dane_log(qid, a, "no_tlsa", 0, 0);
	} else if (!secure) {
		dane_log(qid, a, "insecure_tlsa", usable, total);
	} else if (!usable) {
		a->tls = TLS_ENCRYPT;
		dane_log(qid, a, "unusable_tlsa", usable, total);
	} else {
		if (list.len > sizeof a->tlsa)
			die(111, "fatal: TLSA records beyond their room"); /* dns_parse_tlsa keeps 8 */
		memcpy(a->tlsa, list.s, list.len);
		a->tlsa_len = list.len;
		a->tls = TLS_DANE;
		dane_log(qid, a, "tlsa", usable, total);
	}
	str_free(&list);
}

void dane_plan(struct addr *a, size_t n, int names_secure, const char *qid)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		/* one lookup a host: its addresses come one after the other,
		 * and one already planned hands its plan on */
		for (j = 0; j < i; j++)
			if (strcmp(a[j].host, a[i].host) == 0 && strcmp(a[j].target, a[i].target) == 0 &&
			    a[j].port == a[i].port && a[j].secure == a[i].secure)
				break;
		if (j == i) {
			plan_host(a + i, names_secure, qid);
			continue;
		}
		a[i].tls = a[j].tls;
		a[i].tlsa_temp = a[j].tlsa_temp;
		memcpy(a[i].tlsa_name, a[j].tlsa_name, sizeof a[i].tlsa_name);
		memcpy(a[i].tlsa, a[j].tlsa, a[j].tlsa_len);
		a[i].tlsa_len = a[j].tlsa_len;
	}
}
