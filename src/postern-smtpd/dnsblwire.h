/* The blocklist side of postern-smtpd's DNS (doc/smtp.md, "DNS
 * blocklists"): control/dnsbl's lines, the names a list is asked (RFC
 * 5782) and what its answers mean.  No I/O here: the unit test calls
 * these directly. */
#ifndef POSTERN_SMTPD_DNSBLWIRE_H
#define POSTERN_SMTPD_DNSBLWIRE_H
#include <stddef.h>
#include "dnswire.h"

#define DNSBL_ZONE_MAX 189   /* 253 less an IPv6 address's 64 bytes of nibbles and dots */
#define DNSBL_CODES_MAX 16   /* answer codes one line of control/dnsbl may name */

/* One line of control/dnsbl: ZONE, or ZONE=CODE[,CODE...] with each CODE an
 * IPv4 address the list answers for "listed", each of its numbers N or a
 * range [A..B] (127.0.0.[2..11]). */
struct dnsbl_code {
	unsigned char lo[4], hi[4];
};
struct dnsbl_zone {
	char name[DNSBL_ZONE_MAX + 1]; /* lower case, no trailing dot */
	struct dnsbl_code codes[DNSBL_CODES_MAX];
	size_t ncodes;                 /* 0: any answer in 127.0.0.0/8 but 127.255.255.0/24 */
};
/* 0, or -1 with a malformed line (*why says how). */
int dnsbl_zone_parse(const char *line, struct dnsbl_zone *z, const char **why);

enum dnsbl_result {
	DNSBL_CLEAN,  /* no answer, or none the zone means as a listing */
	DNSBL_LISTED, /* a[*which] lists the client */
	DNSBL_ODD     /* a[*which] is no listing: a list's error code (127.255.255.x), or
	               * outside 127.0.0.0/8 (a list gone and its domain answering for everything) */
};
/* What the na addresses of an A answer mean for zone z. */
enum dnsbl_result dnsbl_judge(const struct dnsbl_zone *z, unsigned char a[][4], size_t na, size_t *which);
#endif
