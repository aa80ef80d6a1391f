/* The session's DNS questions (doc/smtp.md, "DNS blocklists" and "Sender
 * domains"): asked of every nameserver of /etc/resolv.conf at once, over
 * UDP, without blocking, and waited for when their answer is needed.  The
 * blocklists (dnsbl.c) and the sender's domain (senderdns.c) share the
 * sockets; each question says itself which datagram answers it. */
#ifndef POSTERN_SMTPD_DNSQ_H
#define POSTERN_SMTPD_DNSQ_H
#include <stddef.h>
#include "dnswire.h"

#define DNSQ_NAMESERVERS_MAX 3 /* as the C library's resolver (MAXNS) */
#define DNSQ_RESEND_MS 1500    /* a question unanswered this long is asked again, once */
/* The questions a session may have: each is a static struct asked again
 * for each new subject, so the count is bounded by the structs. */
#define DNSQ_LISTS_MAX 8       /* zones of control/dnsbl, and again of rhsbl and of dnswl */
#define DNSQ_SENDER_QUESTIONS 3 /* a sender domain's MX, A and AAAA */
#define DNSQ_SPF_QUESTIONS 1    /* SPF asks one question at a time */
#define DNSQ_QUESTIONS_MAX (3 * DNSQ_LISTS_MAX + DNSQ_SENDER_QUESTIONS + DNSQ_SPF_QUESTIONS)

enum dnsq_take { DNSQ_NOT_MINE, DNSQ_SETTLED, DNSQ_FAILED };

struct dnsq {
	unsigned char query[DNS_QUERY_MAX];
	size_t qlen;
	/* set by the asker: reads a datagram from nameserver ns; DNSQ_SETTLED
	 * when it says what the question wanted to know, DNSQ_FAILED when it
	 * answers the question but tells nothing (SERVFAIL, say: another
	 * nameserver may do better) */
	enum dnsq_take (*take)(struct dnsq *, size_t ns, const unsigned char *m, size_t len);
	int edns;                /* set by the asker: ask with EDNS0 (dns_edns), for long answers */
	/* dnsq's own */
	int pending;             /* no nameserver has settled it, and one still may */
	unsigned failed;         /* bit n: nameserver n's answer told nothing */
	long long asked_ms;      /* monotonic_ms() when it was asked */
	int resent;
};

/* Builds q's query for name and type (rand id) and asks it: 0, or -1 when
 * it cannot be asked (no query for that name, no socket: logged).
 * q must stay where it is until the session ends. */
int dnsq_ask(struct dnsq *q, const char *name, unsigned qtype);
/* Waits until none of the n questions is pending, or until wait_ms after
 * each was asked; what came before is read first. */
void dnsq_wait(struct dnsq **qs, size_t n, long long wait_ms);
/* Asks q's question once more over TCP of nameserver ns (RFC 7766), the
 * one whose answer over UDP was truncated, and hands its answer to
 * q->take; at most until deadline_ms (monotonic_ms).  0 when an answer
 * was taken (settled or failed), -1 when none came. */
int dnsq_tcp(struct dnsq *q, size_t ns, long long deadline_ms);
#endif
