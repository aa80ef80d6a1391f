/* DNS blocklists (doc/smtp.md, "DNS blocklists"): the client's address is
 * looked up in each zone of control/dnsbl (RFC 5782) as the session starts,
 * and the domain of each transaction's sender in each zone of control/rhsbl
 * as its MAIL is accepted, on the resolvers of /etc/resolv.conf, all at
 * once and without blocking (dnsq.c); the answers are waited for only at
 * the first RCPT, at most LISTS_WAIT_MS after they were asked, so a
 * greeting delay or a slow client hides the lookups.  A listed client's or
 * sender's every RCPT is refused with 554, but for postmaster (RFC 5321
 * 4.5.1: whoever is listed can still write to the admin).  A lookup that
 * fails (no answer, SERVFAIL, a list's own error code) lists nobody and is
 * logged: a list that is down must not stop the mail. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include "smtpd.h"
#include "dnsq.h"
#include "dnsblwire.h"
#include "die.h"
#include "log.h"
#include "addr.h"

_Static_assert(SMTPD_DNS_QUESTIONS <= DNSQ_QUESTIONS_MAX, "a session's questions fit dnsq.c");
#define LISTS_MAX DNSQ_LISTS_MAX /* zones looked up; more lines are logged and left */
#define LISTS_WAIT_MS 5000   /* from the question to the last answer waited for */

struct lookup {
	struct dnsq q;           /* first: dnsq hands take_listing this */
	const struct dnsbl_zone *zone; /* one of its lists' zones */
	int settled;             /* a nameserver gave an answer that says what it means */
	enum dnsbl_result result;
	unsigned char code[4];   /* the answer that listed, or the odd one */
	const char *why;         /* for the _error line: why an answer told nothing */
};

/* The zones of one control file, asked about one subject: the client's
 * address (dnsbl) or the sender's domain (rhsbl). */
struct lists {
	const char *file;        /* control/FILE */
	const char *event, *event_error; /* the log lines' */
	const char *what;        /* the 554's words for the subject */
	struct dnsbl_zone zones[LISTS_MAX]; /* the file's, read once a session */
	size_t nzones;
	int parsed;
	struct str subject;      /* the address or the domain */
	struct lookup lookups[LISTS_MAX]; /* lookups[i] is asked in zones[i] */
	size_t n;
	int judged;
	struct str refusal;      /* the 554, once a zone lists the subject */
};

static struct lists client_lists = { .file = "dnsbl", .event = "dnsbl", .event_error = "dnsbl_error",
                                     .what = "client" };
/* lists of good senders' addresses (DNSWL): a client one lists is asked
 * about in the others, but not refused for what they say */
static struct lists white_lists = { .file = "dnswl", .event = "dnswl", .event_error = "dnswl_error",
                                    .what = "client" };
static struct lists sender_lists = { .file = "rhsbl", .event = "rhsbl", .event_error = "rhsbl_error",
                                     .what = "sender domain" };

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
	result = dnsbl_judge(l->zone, rrs.a, rrs.na, &which);
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
size_t dns_client_address(unsigned char *bin)
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

/* The lines of the lists' file (NUL-separated), each checked once a
 * session: a bad line is warned about once, however many MAILs come. */
static void parse_zones(struct lists *ls, const struct str *lines)
{
	const char *p, *why;

	ls->parsed = 1;
	for (p = lines->s; p < lines->s + lines->len; p += strlen(p) + 1) {
		if (ls->nzones == LISTS_MAX)
			warn("control/", ls->file, ": more than 8 zones; left out: ", p);
		else if (dnsbl_zone_parse(p, &ls->zones[ls->nzones], &why) == -1)
			warn("control/", ls->file, ": line left out (", why, "): ", p);
		else {
			/* list.dnswl.org answers a query it refuses with 127.0.0.255 */
			if (ls == &white_lists && !ls->zones[ls->nzones].ncodes)
				warn("control/dnswl: ", p, " names no codes: any answer, a refusal too, makes a good sender");
			ls->nzones++;
		}
	}
}

/* The name asked in zone z about the subject: ip's (a blocklist of
 * addresses) or, when ip is NULL, the domain's, DOMAIN.ZONE; for a domain
 * too long for the zone, its labels from the left are let go until it
 * fits, since a list of domains lists their subdomains too (a wildcard).
 * -1 when not even the last two labels fit. */
static int list_name(char *name, const struct lists *ls, const struct dnsbl_zone *z, const unsigned char *ip,
                     size_t iplen)
{
	const char *d = ls->subject.s;
	size_t dl = ls->subject.len, zl = strlen(z->name);

	if (ip)
		return dns_reverse_name(name, 256, ip, iplen, z->name);
	while (dl + 1 + zl > 253) {
		const char *dot = memchr(d, '.', dl);
		if (!dot || !memchr(dot + 1, '.', dl - (size_t)(dot + 1 - d)))
			return -1;
		dl -= (size_t)(dot + 1 - d);
		d = dot + 1;
	}
	memcpy(name, d, dl);
	name[dl] = '.';
	memcpy(name + dl + 1, z->name, zl + 1);
	return 0;
}

static void lists_start(struct lists *ls, const struct str *lines, const unsigned char *ip, size_t iplen)
{
	size_t i;

	if (!ls->parsed)
		parse_zones(ls, lines);
	ls->judged = 0;
	ls->refusal.len = 0;
	for (i = 0; i < ls->nzones; i++) {
		struct lookup *l = &ls->lookups[i];
		char name[256];
		l->zone = &ls->zones[i];
		l->settled = 0;
		l->result = DNSBL_CLEAN;
		l->why = 0;
		l->q.take = take_listing;
		l->q.pending = 0;
		if (list_name(name, ls, l->zone, ip, iplen) == -1)
			l->why = "name too long"; /* logged at the first RCPT */
		else
			(void)dnsq_ask(&l->q, name, DNS_T_A); /* not asked (no nameserver): logged then too */
	}
	ls->n = ls->nzones;
}

int dns_stranger(const char *skip)
{
	return !client.local && !client.relay && !cfg.submission && !getenv(skip);
}

static int stranger(void) { return dns_stranger("DNSBLSKIP"); }

void dnsbl_start(void)
{
	unsigned char ip[16];
	size_t iplen;

	/* a list of good senders matters only where a blocklist may refuse */
	if ((!cfg.dnsbl.len && !cfg.rhsbl.len) || !stranger() || !(iplen = dns_client_address(ip)))
		return;
	if (!str_copys(&client_lists.subject, client.ip) || !str_copys(&white_lists.subject, client.ip))
		die_nomem();
	lists_start(&client_lists, &cfg.dnsbl, ip, iplen);
	lists_start(&white_lists, &cfg.dnswl, ip, iplen);
}

void rhsbl_start(const char *domain, size_t len)
{
	static struct str ascii;

	sender_lists.n = 0; /* a new transaction: the last sender's verdict is gone */
	sender_lists.judged = 0;
	sender_lists.refusal.len = 0;
	/* the null sender (len 0) is not asked about, nor any sender of a
	 * client a blocklist of addresses refused already */
	if (!cfg.rhsbl.len || !stranger() || client_lists.refusal.len ||
	    (white_lists.judged && white_lists.refusal.len) || dns_domain_name(domain, len, &ascii) != 1 ||
	    ascii.len > 253)
		return;
	if (!str_copyb(&sender_lists.subject, ascii.s, ascii.len))
		die_nomem();
	lowercase(sender_lists.subject.s, sender_lists.subject.len);
	lists_start(&sender_lists, &cfg.rhsbl, 0, 0);
}

static void log_result(const struct lists *ls, const struct lookup *l)
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
	log_begin(&line, l->result == DNSBL_LISTED ? ls->event : ls->event_error);
	log_kv(&line, "ip", client.ip);
	if (ls == &sender_lists)
		log_kvb(&line, "domain", ls->subject.s, ls->subject.len);
	log_kv(&line, "zone", l->zone->name);
	if (l->result != DNSBL_CLEAN && inet_ntop(AF_INET, l->code, code, sizeof code))
		log_kv(&line, "answer", code);
	if (l->result != DNSBL_LISTED)
		log_kv(&line, "why", why);
	else if (ls == &white_lists)
		log_kv(&line, "blocklists", "ignored");
	log_end(&line);
}

static const char *lists_refusal(struct lists *ls)
{
	struct dnsq *qs[LISTS_MAX];
	size_t i;

	if (ls->judged)
		return ls->refusal.len ? ls->refusal.s : 0;
	ls->judged = 1;
	for (i = 0; i < ls->n; i++)
		qs[i] = &ls->lookups[i].q;
	dnsq_wait(qs, ls->n, LISTS_WAIT_MS);
	for (i = 0; i < ls->n; i++) {
		const struct lookup *l = &ls->lookups[i];
		log_result(ls, l);
		if (l->result != DNSBL_LISTED || ls->refusal.len)
			continue;
		if (!str_copys(&ls->refusal, "554 5.7.1 service unavailable; ") || !str_cats(&ls->refusal, ls->what) ||
		    !str_cats(&ls->refusal, ls == &client_lists ? " [" : " ") || !str_cat(&ls->refusal, &ls->subject) ||
		    !str_cats(&ls->refusal, ls == &client_lists ? "] is listed by " : " is listed by ") ||
		    !str_cats(&ls->refusal, l->zone->name))
			die_nomem();
	}
	return ls->refusal.len ? ls->refusal.s : 0;
}

const char *dnsbl_refusal(void)
{
	const char *r;

	r = lists_refusal(&client_lists);
	if (!r)
		r = lists_refusal(&sender_lists);
	/* a list of good senders is waited for only when a blocklist would
	 * refuse (its "refusal" is its listing) */
	if (r && white_lists.n && lists_refusal(&white_lists))
		return 0;
	return r;
}
