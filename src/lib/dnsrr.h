/* A dnsq question whose answer is its records, judged once for its two
 * askers, postern-dkimverify's TXT (txt.c) and postern-smtpd's SPF
 * (spfcheck.c): only a whole answer from a resolver or from the domain's
 * own server settles it, since a record left out could turn a verdict
 * round; one truncated even with EDNS0 is asked again over TCP. */
#ifndef POSTERN_DNSRR_H
#define POSTERN_DNSRR_H
#include <stddef.h>
#include "dnsq.h"

struct dnsrr {
	struct dnsq q;          /* first: dnsq hands take this */
	/* set by the asker: each record of an answer (dns_records' each),
	 * and the undoing of what it did with an answer not taken after all */
	int (*fill)(void *ctx, unsigned type, const unsigned char *m, size_t len, size_t rd, size_t rdlen);
	void (*forget)(void *ctx);
	void *ctx;
	/* dnsrr's own */
	int open;               /* asked, and not ended: an answer has someone to tell */
	int rcode;              /* -1 until settled: 0, or 3 (NXDOMAIN) */
	int truncated;          /* 1 + the nameserver whose UDP answer was cut */
};

/* Asks name's records of type qtype over UDP, with EDNS0: dnsq_ask's answer. */
int dnsrr_ask(struct dnsrr *r, const char *name, unsigned qtype);
/* 1 when the UDP answer was cut and nothing settled r since. */
int dnsrr_truncated(const struct dnsrr *r);
/* When dnsrr_truncated, after the UDP wait: the question once more over
 * TCP of the nameserver that cut it, until deadline_ms (monotonic_ms). */
void dnsrr_tcp(struct dnsrr *r, long long deadline_ms);
/* Ends r, so that a late answer has no one to tell: its rcode, -1 (with
 * forget called) when nothing settled it. */
int dnsrr_end(struct dnsrr *r);
#endif
