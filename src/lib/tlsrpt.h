/* TLS reporting (RFC 8460; doc/tlsrpt.md): the texts postern-remote and
 * postern-tlsrpt share, each read as hostile.  control/tlsrpt; one record
 * line of queue/tlsrpt/DAY/r.DOMAIN (written by postern-remote, which talks
 * to hostile servers); a domain's _smtp._tls TXT record and its mailto:
 * addresses (written by strangers).  No I/O here: the unit tests and the
 * fuzz target call these directly. */
#ifndef POSTERN_TLSRPT_H
#define POSTERN_TLSRPT_H
#include <stddef.h>
#include "str.h"

#define TLSRPT_LINE_MAX 1024   /* a record line, its LF included */
#define TLSRPT_REASON_MAX 200  /* a REASON as written, %XX encoded */
#define TLSRPT_IP_MAX 45       /* INET6_ADDRSTRLEN less its NUL */
#define TLSRPT_HOST_MAX 253
#define TLSRPT_ORG_MAX 100
#define TLSRPT_CONTACT_MAX 200
#define TLSRPT_ADDR_MAX 254    /* RFC 5321 4.5.3.1.3 */
#define TLSRPT_RUA_MAX 4       /* rua= URIs looked at; more are left out */

enum tlsrpt_type { TLSRPT_STS, TLSRPT_TLSA, TLSRPT_NOPOLICY };
extern const char *const tlsrpt_types[3];   /* "sts", "tlsa", "no-policy-found" */
/* RESULT: 0 is success, the others RFC 8460 4.3's result types */
#define TLSRPT_RESULTS 12
extern const char *const tlsrpt_results[TLSRPT_RESULTS];

/* One record line: "1 TYPE HASH RESULT SENDING_IP MX_HOST MX_IP REASON".
 * A field that is "-" is the empty string here; reason is %XX decoded
 * (reason_len bytes; never a NUL in it). */
struct tlsrpt_rec {
	enum tlsrpt_type type;
	char hash[17];
	unsigned result;
	char sending_ip[TLSRPT_IP_MAX + 1];
	char mx_host[TLSRPT_HOST_MAX + 1];
	char mx_ip[TLSRPT_IP_MAX + 1];
	char reason[TLSRPT_REASON_MAX + 1];
	size_t reason_len;
};
/* line (n bytes, its LF left off): 0 with *r, or -1 with *why (a static
 * text) when any field is out of its range: the line is skipped. */
int tlsrpt_rec_parse(const char *line, size_t n, struct tlsrpt_rec *r, const char **why);

/* A host name as postern writes one: labels of letters, digits and '-'
 * (1 to 63 bytes), joined by single dots, at most 253 bytes, lower case
 * when lower is 1. */
int tlsrpt_host_ok(const char *s, size_t n, int lower);
/* An address postern sends a report to or from: a local part of RFC
 * 5322's atext and single dots (no quoted string), '@', a host name
 * (tlsrpt_host_ok, any case; no address literal); at most 254 bytes.
 * What it lets through goes into a header field and an envelope as it is. */
int tlsrpt_addr_ok(const char *s, size_t n);

/* A TXT record (its strings joined, n bytes): 0 when it is no TLSRPT
 * record (it does not begin with v=TLSRPTv1 then a blank or ';'); 1 when
 * it is one and parses (RFC 8460 3: a rua= field, extension fields
 * ignored), its first TLSRPT_RUA_MAX URIs pointed at in uri[] and uri_len[]
 * (*nuri of them; *more counts those left out); -1 when it is one that
 * does not parse (*why). */
int tlsrpt_txt(const char *rec, size_t n, const char *uri[TLSRPT_RUA_MAX], size_t uri_len[TLSRPT_RUA_MAX],
               size_t *nuri, size_t *more, const char **why);
/* A rua= URI: 1 for mailto: with one address postern can send to
 * (%XX decoded, a ?query left off, tlsrpt_addr_ok) into addr; 0 for
 * another scheme (*scheme_https set for https:); -1 for a mailto: that
 * holds no such address.  Dies nothing; -2 out of memory. */
int tlsrpt_mailto(const char *uri, size_t n, struct str *addr, int *scheme_https);

/* control/tlsrpt's lines (as control_lines gives them): 1 reporting on,
 * with c's fields set (contact defaults to from, from to postmaster@ME);
 * 0 off (no organization, or a bad one); -1 out of memory.  *bad counts
 * the lines left out, *bad_name the first of their names ("" when none). */
struct tlsrpt_conf {
	struct str org, contact, from;
	size_t bad;
	char bad_name[16];
};
int tlsrpt_conf(const struct str *lines, const char *me, struct tlsrpt_conf *c);

/* json.c: s (n bytes) as a JSON string, quotes included, appended to out:
 * '"' and '\\' escaped, every byte below 0x20, DEL and every byte from
 * 0x80 up written \u00XX (the data is hostile: no byte reaches the
 * report raw that a reader could take for structure or another
 * encoding).  1, or 0 out of memory. */
int json_cat_string(struct str *out, const char *s, size_t n);
#endif
