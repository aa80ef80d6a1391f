/* A program's DNS questions: asked of every nameserver of
 * /etc/resolv.conf at once, over UDP, without blocking, and waited for
 * when their answer is needed.  postern-smtpd's blocklists (dnsbl.c),
 * sender domain (senderdns.c) and SPF (spfcheck.c), and
 * postern-dkimverify's keys, each share one program's sockets; each
 * question says itself which datagram answers it. */
#ifndef POSTERN_DNSQ_H
#define POSTERN_DNSQ_H
#include <stddef.h>
#include "dnswire.h"

#define DNSQ_NAMESERVERS_MAX 3 /* as the C library's resolver (MAXNS) */
#define DNSQ_RESEND_MS 1500    /* a question unanswered this long is asked again, once */
/* The questions a program may have: each is a static struct asked again
 * for each new subject, so the count is bounded by the structs (a
 * program's own header says how many it has, and asserts they fit). */
#define DNSQ_QUESTIONS_MAX 32

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
