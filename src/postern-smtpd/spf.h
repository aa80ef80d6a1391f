/* SPF (RFC 7208): may this address send mail for this domain?  The
 * evaluation alone, check_host() with its record syntax, macros and limits;
 * every DNS answer comes through the caller's lookup function, so the unit
 * test, the fuzz target and the RFC's test suite drive it without a
 * network (doc/smtp.md, "SPF"; spfcheck.c asks the nameservers). */
#ifndef POSTERN_SMTPD_SPF_H
#define POSTERN_SMTPD_SPF_H
#include <stddef.h>

#define SPF_LOOKUPS_MAX 10   /* terms that cause DNS lookups (RFC 7208 4.6.4) */
#define SPF_VOIDS_MAX 2      /* lookups that find no records, before permerror */
#define SPF_MX_MAX 10        /* MX names an mx mechanism may have */
#define SPF_PTR_MAX 10       /* PTR names looked at; the rest are left */
#define SPF_ADDRS_MAX 128    /* addresses of one answer compared */
#define SPF_NAMES_MAX (SPF_MX_MAX + 1) /* one more than an mx may have: to see it has too many */
#define SPF_RECORD_MAX 4095  /* bytes of an SPF record kept; a longer one is permerror */

enum spf_result { SPF_NONE, SPF_NEUTRAL, SPF_PASS, SPF_FAIL, SPF_SOFTFAIL, SPF_TEMPERROR, SPF_PERMERROR };

enum spf_dns {
	SPF_DNS_OK,     /* an answer: n records of the type asked, maybe none */
	SPF_DNS_NXDOMAIN,
	SPF_DNS_ERROR   /* no answer that can be used: timeout, SERVFAIL, truncated */
};

/* One lookup's answer, filled by the caller's lookup function. */
struct spf_answer {
	enum spf_dns status;
	size_t n;                                 /* records of the type asked, all of them */
	unsigned char addr[SPF_ADDRS_MAX][16];    /* A (first 4 bytes) or AAAA */
	size_t naddr;
	char name[SPF_NAMES_MAX][256];            /* MX or PTR targets, no trailing dot */
	size_t nname;
	size_t nspf;                              /* TXT: records that start with v=spf1 */
	char spf[SPF_RECORD_MAX + 1];             /* the first of them (NUL after it) */
	size_t spflen;
	int spf_toolong;                          /* it had more than SPF_RECORD_MAX bytes */
};

/* The type codes of the questions asked. */
#define SPF_T_A 1
#define SPF_T_PTR 12
#define SPF_T_MX 15
#define SPF_T_TXT 16
#define SPF_T_AAAA 28
/* TXT for an exp= (RFC 7208 6.2): every record counts in nspf, whatever
 * it starts with, and the first one (its strings joined) is in spf; the
 * question asked is TXT's */
#define SPF_T_EXP 0x10010
#define SPF_EXPLANATION_MAX 250 /* bytes of an exp= text kept for a reply */

struct spf_request {
	unsigned char ip[16];    /* the client: 4 bytes, or 16 (IPv4-mapped given as 4) */
	size_t iplen;
	const char *sender;      /* the identity: local@domain, or postmaster@HELO for <> */
	const char *helo;        /* for %{h} */
	/* name (no trailing dot), a question of type type: fills *a; -1 when
	 * the time for the whole check is spent (temperror) */
	int (*lookup)(void *ctx, const char *name, unsigned type, struct spf_answer *a);
	void *ctx;
	int explain;             /* 1: a fail's exp= is looked up (only a reply that refuses shows it) */
	/* spf.c's own */
	int lookups, voids;
	int unasked;             /* the last lookup was of a name no query can carry */
	struct spf_answer *scratch;
	char p_domain[256], p_name[256]; /* %{p} for p_domain, looked up once */
	char why[200];           /* what decided: the matching term, or the error */
	int includes;            /* include records being evaluated: their exp= is not used (6.2) */
	char exp_spec[256];      /* the exp= of the record whose term failed, or "" */
	char exp_domain[256];    /* the domain that record was checked for */
	/* After a fail: the text its domain's exp= gives (6.2), expanded,
	 * printable ASCII only; "" when there is none, or it could not be
	 * had (no record, several, a DNS error, a bad macro, a byte outside
	 * printable ASCII). */
	char explanation[SPF_EXPLANATION_MAX + 1];
};

/* check_host(ip, domain of sender, sender): the result, with r->why saying
 * what decided it (the term text comes from the domain's record). */
enum spf_result spf_check(struct spf_request *r);
const char *spf_result_name(enum spf_result);

/* s (n bytes) as a domain SPF can ask about (RFC 7208 4.3): labels of 1 to
 * 63 bytes, at least two, 253 bytes in all; a trailing dot let go. */
int spf_domain_ok(const char *s, size_t n);
/* The same, and a domain an identity can have: a last label that is not
 * all digits (an IPv4 address is none) and no '@' (a HELO name may hold
 * anything). */
int spf_identity_ok(const char *s, size_t n);

/* The macro string s (n bytes) expanded for r and the domain now being
 * checked into out (cap bytes, NUL-terminated): 0, or -1 when it is not a
 * macro string (permerror).  exp says whether c, r and t may appear. */
int spf_expand(struct spf_request *r, const char *domain, const char *s, size_t n, int exp, char *out,
               size_t cap);
#endif
