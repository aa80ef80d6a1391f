/* DNS blocklists (doc/smtp.md, "DNS blocklists"): the client's address is
 * looked up in each zone of control/dnsbl (RFC 5782) as the session starts,
 * on the resolvers of /etc/resolv.conf, all at once and without blocking;
 * the answers are waited for only at the first RCPT, at most DNSBL_WAIT_MS
 * after the start, so a greeting delay or a slow client hides the lookups.
 * A listed client's every RCPT is refused with 554, but for postmaster
 * (RFC 5321 4.5.1: whoever is listed can still write to the admin).  A
 * lookup that fails (no answer, SERVFAIL, a list's own error code) lists
 * nobody and is logged: a list that is down must not stop the mail. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include "smtpd.h"
#include "dnsq.h"
#include "die.h"
#include "log.h"

#define DNSBL_MAX 8          /* zones looked up; more lines are logged and left */
#define DNSBL_WAIT_MS 5000   /* from the start to the last answer waited for */

struct lookup {
	struct dnsq q;           /* first: dnsq hands take_listing this */
	struct dnsbl_zone zone;
	int settled;             /* a nameserver gave an answer that says what it means */
	enum dnsbl_result result;
	unsigned char code[4];   /* the answer that listed, or the odd one */
	const char *why;         /* for dnsbl_error: why an answer told nothing */
};

static struct lookup lookups[DNSBL_MAX];
static size_t nlookups;
static int judged;
static struct str refusal;   /* the 554, once a zone lists the client */

/* A datagram that may answer lookup q. */
static enum dnsq_take take_listing(struct dnsq *q, size_t ns, const unsigned char *m, size_t len)
{
	struct lookup *l = (struct lookup *)q;
	struct dns_rrs rrs;
	size_t which = 0;
	enum dnsbl_result result;
	int rcode = dns_answer(m, len, q->query, q->qlen, &rrs);

	(void)ns;
	if (rcode == -1)
		return DNSQ_NOT_MINE;
	result = dnsbl_judge(&l->zone, rrs.a, rrs.na, &which);
	if (result != DNSBL_ODD && !(rrs.lame && !rrs.na) && (rcode == 3 || (rcode == 0 && (!rrs.truncated || rrs.na)))) {
		/* NXDOMAIN, or an answer: what it means is settled */
		l->settled = 1;
		l->result = result;
		if (result == DNSBL_LISTED)
			memcpy(l->code, rrs.a[which], 4);
		return DNSQ_SETTLED;
	}
	/* SERVFAIL, REFUSED, an empty truncated answer, a list's error code
	 * (a public resolver refused, say): another nameserver may do better */
	if (result == DNSBL_ODD) {
		l->result = DNSBL_ODD;
		memcpy(l->code, rrs.a[which], 4);
	} else if (l->result != DNSBL_ODD)
		l->why = rcode == 2 ? "servfail" : rcode == 5 ? "refused" : rcode != 0 && rcode != 3 ? "error"
		       : rrs.lame ? "no recursion" : "truncated answer";
	return DNSQ_FAILED;
}

/* The client's address as 4 bytes (IPv4, or IPv4 mapped into IPv6) or 16. */
static size_t client_address(unsigned char *bin)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	if (!strchr(client.ip, ':'))
		return inet_pton(AF_INET, client.ip, bin) == 1 ? 4 : 0;
	if (inet_pton(AF_INET6, client.ip, bin) != 1)
		return 0;
	if (!memcmp(bin, mapped, sizeof mapped)) {
		memmove(bin, bin + 12, 4);
		return 4;
	}
	return 16;
}

static void add_lookup(const char *line, const unsigned char *ip, size_t iplen)
{
	struct lookup *l = &lookups[nlookups];
	char name[256];
	const char *why;

	if (dnsbl_zone_parse(line, &l->zone, &why) == -1) {
		warn("control/dnsbl: line left out (", why, "): ", line);
		return;
	}
	if (dnsbl_qname(name, sizeof name, ip, iplen, l->zone.name) == -1) {
		warn("control/dnsbl: no query could be made for ", l->zone.name);
		return;
	}
	l->settled = 0;
	l->result = DNSBL_CLEAN;
	l->why = 0;
	l->q.take = take_listing;
	nlookups++;
	/* not asked (no nameserver, no socket): logged at the first RCPT */
	(void)dnsq_ask(&l->q, name, DNS_T_A);
}

void dnsbl_start(void)
{
	unsigned char ip[16];
	size_t iplen;
	const char *p;

	/* mail from a client the admin trusts, from a local user, or after a
	 * login is not a stranger's */
	if (!cfg.dnsbl.len || client.local || client.relay || cfg.submission || getenv("DNSBLSKIP"))
		return;
	if (!(iplen = client_address(ip)))
		return;
	for (p = cfg.dnsbl.s; p < cfg.dnsbl.s + cfg.dnsbl.len; p += strlen(p) + 1) {
		if (nlookups == DNSBL_MAX) {
			warn("control/dnsbl: more than 8 zones; left out: ", p);
			continue;
		}
		add_lookup(p, ip, iplen);
	}
}

static void log_result(const struct lookup *l)
{
	struct logline line = { STR_INIT };
	char code[INET_ADDRSTRLEN];
	const char *why = l->why;

	if (l->settled && l->result == DNSBL_CLEAN)
		return;
	if (l->result == DNSBL_ODD)
		why = "answer is no listing";
	else if (!why)
		why = l->q.pending ? "timeout" : "no nameserver could be asked";
	log_begin(&line, l->result == DNSBL_LISTED ? "dnsbl" : "dnsbl_error");
	log_kv(&line, "ip", client.ip);
	log_kv(&line, "zone", l->zone.name);
	if (l->result != DNSBL_CLEAN && inet_ntop(AF_INET, l->code, code, sizeof code))
		log_kv(&line, "answer", code);
	if (l->result != DNSBL_LISTED)
		log_kv(&line, "why", why);
	log_end(&line);
}

const char *dnsbl_refusal(void)
{
	struct dnsq *qs[DNSBL_MAX];
	size_t i;

	if (judged)
		return refusal.len ? refusal.s : 0;
	judged = 1;
	for (i = 0; i < nlookups; i++)
		qs[i] = &lookups[i].q;
	dnsq_wait(qs, nlookups, DNSBL_WAIT_MS);
	for (i = 0; i < nlookups; i++) {
		const struct lookup *l = &lookups[i];
		log_result(l);
		if (l->result == DNSBL_LISTED && !refusal.len &&
		    (!str_copys(&refusal, "554 5.7.1 service unavailable; client [") || !str_cats(&refusal, client.ip) ||
		     !str_cats(&refusal, "] is listed by ") || !str_cats(&refusal, l->zone.name)))
			die_nomem();
	}
	return refusal.len ? refusal.s : 0;
}
