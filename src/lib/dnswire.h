/* The DNS bytes behind the lookups of dnsq.c (postern-smtpd's blocklists,
 * sender domains and SPF; postern-dkimverify's keys): the query, and the
 * answer read with every length checked, since whatever sits on the
 * resolver's address may have written it.  No I/O here: the fuzz target
 * and the unit tests call these directly. */
#ifndef POSTERN_DNSWIRE_H
#define POSTERN_DNSWIRE_H
#include <stddef.h>
#include <stdint.h>
#include "str.h"

#define DNS_QUERY_MAX 300    /* header 12, a name of at most 255, type and class, an OPT record of 11 */
#define DNS_ANSWER_ADDRS 16  /* A records of one answer looked at */
#define DNS_T_A 1
#define DNS_T_PTR 12
#define DNS_T_MX 15
#define DNS_T_TXT 16
#define DNS_T_AAAA 28
#define DNS_EDNS_SIZE 1232   /* the UDP answer size asked for: fits any path's MTU (DNS flag day 2020) */

/* dnsname.c: 1 when domain (n bytes) can be asked about, with out its name as DNS
 * knows it (a str is NUL-terminated past its length): as it is, or for a name in UTF-8 (SMTPUTF8)
 * its A-labels (src/lib/idna.h).  0 for an address literal ([192.0.2.1]
 * has no records) or an empty name; -1 for a UTF-8 name that is no valid
 * one (no DNS could hold it).  Dies out of memory. */
int dns_domain_name(const char *domain, size_t n, struct str *out);

/* The name asked for ip (4 bytes, or 16 for IPv6) under zone: the IPv4
 * address's numbers reversed, or IPv6's 32 nibbles reversed, then zone
 * (a blocklist's, RFC 5782; in-addr.arpa or ip6.arpa).  0, or -1 when it
 * would not fit cap. */
int dns_reverse_name(char *out, size_t cap, const unsigned char *ip, size_t iplen, const char *zone);

/* A standard query, recursion desired, for name's records of type qtype
 * (class IN): its length, or 0 when name is not a name (an empty label,
 * one over 63 bytes, a trailing dot, over 253 bytes) or cap is too small. */
size_t dns_query(unsigned char *out, size_t cap, uint16_t id, const char *name, unsigned qtype);

/* Adds an EDNS0 OPT record (RFC 6891) to the query q (qlen bytes, room
 * for cap), so that an answer of up to DNS_EDNS_SIZE bytes comes whole
 * over UDP: SPF's TXT records are often longer than 512.  The new length,
 * or 0 when it does not fit. */
size_t dns_edns(unsigned char *q, size_t qlen, size_t cap);

/* Reads m (len bytes) as the answer to query q (qlen bytes, from dns_query,
 * maybe with dns_edns): -1 when it is not one (another id, another
 * question, not a response, malformed, or each returned -1), else its
 * RCODE.  each is called for every record of the answer section of class
 * IN when the RCODE is 0, with the offset and length of its data in m; a
 * truncated answer (TC) is read as far as its records are whole.  *flags
 * gets DNS_TRUNCATED and DNS_LAME. */
#define DNS_TRUNCATED 1
#define DNS_LAME 2      /* neither RA nor AA: no resolver's answer, nor the domain's */
int dns_records(const unsigned char *m, size_t len, const unsigned char *q, size_t qlen, int *flags,
                int (*each)(void *ctx, unsigned type, const unsigned char *m, size_t len, size_t rdpos,
                            size_t rdlen),
                void *ctx);
/* The name at m[pos], compression pointers followed (backwards only), as
 * dotted text without the root's dot in out (cap bytes, NUL after it):
 * its length, or -1 when it is malformed, too long, or has a byte in a
 * label that is a dot, a space or not printable ASCII. */
int dns_name(const unsigned char *m, size_t len, size_t pos, char *out, size_t cap);

/* What an answer holds, by type, class IN, any owner (a CNAME on the way
 * is the resolver's business); only an answer whose RCODE is 0 counts. */
struct dns_rrs {
	unsigned char a[DNS_ANSWER_ADDRS][4]; /* the first DNS_ANSWER_ADDRS A records */
	size_t na, naaaa;
	size_t nmx;      /* MX records of a host name */
	int null_mx;     /* an MX of the root name: the domain takes no mail (RFC 7505) */
	int truncated;   /* the TC bit: the records are those that fit */
	int lame;        /* neither RA nor AA: no resolver's answer, nor the domain's */
};
/* Reads m (len bytes) as the answer to query q (qlen bytes, from
 * dns_query): -1 when it is not one (another id, another question, not a
 * response, malformed), else its RCODE, with its records in *rrs.  A
 * truncated answer (TC) is taken with the records that are whole in it. */
int dns_answer(const unsigned char *m, size_t len, const unsigned char *q, size_t qlen, struct dns_rrs *rrs);

#endif
