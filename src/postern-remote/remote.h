/* postern-remote's parts: routes (control/smtproutes), DNS (MX, A, AAAA),
 * this host's addresses, the bounded SMTP reply reader, the SMTP session. */
#ifndef POSTERN_REMOTE_H
#define POSTERN_REMOTE_H
#include <stddef.h>
#include <netinet/in.h>
#include "io.h"
#include "str.h"
#include "base64.h"
#include "batch.h"
#include "tlsreq.h"
#include "tlsa.h"

#define RCPT_MAX 100        /* recipients of one message in one run (doc/pipes.md) */
#define MSGS_MAX REMOTE_BATCH_MAX /* messages in one run, over one connection if all goes well */
#define TEXT_MAX 1000       /* bytes of one result text */
#define HOSTS_MAX 10        /* MX hosts tried */
#define ADDRS_MAX 20        /* addresses tried in all */
#define REPLY_LINE_MAX 2048 /* one reply line, CRLF included */
#define REPLY_LINES_MAX 100 /* lines of one multi-line reply */
#define STS_FAILURE_MAX 128 /* an attempt line's sts_failure, its NUL included */

/* ---- routes.c: control/smtproutes ---- */
struct route {
	int found;          /* a line matched */
	struct str host;    /* empty: use MX; "[ip]": a literal; else a name (no MX) */
	unsigned port;
};
/* Finds the route for domain in the lines of control/smtproutes (a
 * NUL-separated list): `domain:host[:port]`, `.suffix:...` for
 * subdomains, `:host[:port]` for everything.  The most specific wins.
 * 1 ok, 0 a malformed line matched (the whole run defers), -1 no memory. */
int route_find(const struct str *lines, const char *domain, size_t dlen, struct route *r);
/* Each line's domain in UTF-8 as its A-labels (src/lib/idna.h), so that
 * lines match the A-label form a UTF-8 domain is looked up by.  1 ok, -1
 * no memory. */
int lines_to_alabels(struct str *lines);
/* control/remotetls: `domain:policy` lines, `:policy` for every domain,
 * the line that applies chosen as for smtproutes. */
enum tls_policy { TLS_NONE, TLS_MAY, TLS_ENCRYPT, TLS_VERIFY, TLS_DANE, TLS_STS, TLS_DANE_STS };
/* The policy for domain in *pol (TLS_MAY when no line applies).  1 ok;
 * 0 a line anywhere is not `key:policy` with a known policy (*bad is
 * that line): the whole run defers. */
int tls_policy_find(const struct str *lines, const char *domain, size_t dlen, enum tls_policy *pol,
                    const char **bad);
int tls_policy_word(const char *s); /* "none" .. "dane-sts": the enum's value; else -1 */
const char *tls_policy_name(enum tls_policy p);

/* ---- auth.c, base64.c: SMTP AUTH credentials for smarthosts ---- */
#define AUTH_FILE "secret/remote/smtpauth" /* under HOME */
#define AUTH_FILE_MAX 65536
#define AUTH_FIELD_MAX 255                 /* user, password (RFC 4616) */
#define AUTH_B64_MAX 700                   /* base64 of NUL user NUL pass, NUL */
struct creds {
	int found;
	char user[AUTH_FIELD_MAX];
	size_t ulen;
	char pass[AUTH_FIELD_MAX];
	size_t plen;
};
/* The credentials for host (as a route names it) from the lines of the
 * file in buf: `host:user:password`, the password the rest of the line;
 * '#' lines and blank lines skipped; the first line for host wins.
 * 1 found, 0 none, -1 a malformed line anywhere (*lineno set). */
int auth_parse(const char *buf, size_t n, const char *host, size_t hlen, struct creds *c,
               size_t *lineno);
/* Reads HOME/AUTH_FILE: absent 0; found 1; -1 refused or unreadable (why
 * says why: a mode open to group or others, an owner other than this
 * uid or root, a symlink, a malformed line); -2 out of memory. */
int auth_load(const char *host, size_t hlen, struct creds *c, struct str *why);
void auth_wipe(struct creds *c);
/* 1 if host is a line of control/smtpauthplaintext (list as control_lines). */
int auth_plaintext_ok(const struct str *list, const char *host, size_t hlen);
/* base64("\0user\0pass") into out; its length, 0 if size is too small. */
size_t auth_plain_response(const struct creds *c, char *out, size_t size);

/* ---- dns.c ---- */
#define TLSA_LIST_MAX (TLSA_RECORDS_MAX * (TLSA_TEXT_MAX + 1))
struct addr {
	int af;                /* AF_INET or AF_INET6 */
	unsigned char a[16];
	char host[256];        /* the name it came from (for logs and texts) */
	unsigned port;
	int named;             /* named by a route: never skipped as local */
	int secure;            /* its address records came with the AD bit */
	char target[256];      /* the owner of those records: host's CNAME target, or host */
	char tlsa_name[256];   /* dane: the name its TLSA records were found at, sent as SNI */
	/* under policy dane (dane.c): this host's own policy, may, encrypt
	 * or dane, or TLS_NONE with tlsa_temp set when its TLSA records
	 * could not be looked up (the host fails, never in clear) */
	enum tls_policy tls;
	int tlsa_temp;
	/* under an MTA-STS policy in mode testing (sts.c): the host is
	 * spoken to as under may, but with postern-tlsio's policy t, and
	 * whether enforce would have refused it is logged; sts_named: one
	 * of the policy's mx: patterns matches it */
	int sts_testing, sts_named;
	char tlsa[TLSA_LIST_MAX]; /* dane: the usable records, each ending in NUL */
	size_t tlsa_len;
};
enum dns_result { DNS_OK, DNS_NODATA, DNS_NXDOMAIN, DNS_TEMP, DNS_NULLMX };
struct mx {
	char name[256];
	unsigned pref;
	unsigned rnd;
};
/* MX records of domain, sorted by preference, equal ones in random order;
 * *secure is 1 when the answer came with the AD bit (DNSSEC-validated by
 * the resolver, which postern trusts: doc/remote.md, "DANE"). */
enum dns_result dns_mx(const char *domain, struct mx *out, size_t max, size_t *n, int *secure);
/* TLSA records of _PORT._tcp.HOST: the usable ones appended to list (text
 * form, each ending in NUL, sorted, the first TLSA_RECORDS_MAX), *usable
 * and *total counting all usable and all records, *secure as dns_mx's. */
enum dns_result dns_tlsa(const char *host, unsigned port, struct str *list, size_t *usable, size_t *total,
                         int *secure);
int dns_parse_tlsa(const unsigned char *msg, size_t len, struct str *list, size_t *usable, size_t *total);
/* TXT records of name, each one's strings joined and ended by a NUL in
 * list, at most max kept (*n counts them all, so that "more than one" is
 * known).  DNS_OK, DNS_NODATA (none), DNS_NXDOMAIN, DNS_TEMP. */
enum dns_result dns_txt(const char *name, struct str *list, size_t max, size_t *n);
/* dns_txt's parse: the count, -1 malformed (a record with a NUL in it
 * among them), -2 out of memory. */
int dns_parse_txt(const unsigned char *msg, size_t len, struct str *list, size_t max);
/* Every later query goes to the first nameserver of resolv.conf alone
 * (policy dane: doc/remote.md, "DANE"). */
void dns_one_resolver(void);
/* AAAA then A records of name appended to out (at most max in all). */
enum dns_result dns_addrs(const char *name, unsigned port, int named, struct addr *out, size_t max,
                          size_t *n);
/* Parses the answer of a query (pure: tests/unit/remote_dns.c).  For T_MX
 * fills mx; for T_A/T_AAAA fills addrs.  Returns the count, -1 if malformed. */
int dns_parse_mx(const unsigned char *msg, size_t len, struct mx *out, size_t max, int *nullmx);
int dns_parse_addrs(const unsigned char *msg, size_t len, int type, struct addr *out, size_t max);
/* "1.2.3.4" or "IPv6:..."/"::1" inside brackets -> addr.  1 ok, 0 not an address. */
int addr_literal(const char *s, size_t n, struct addr *a);
void addr_fmt(const struct addr *a, char *buf, size_t size); /* INET6_ADDRSTRLEN at least */

/* ---- sts.c: policy sts (MTA-STS, RFC 8461) ---- */
/* Each address's own policy from the domain's MTA-STS policy: under mode
 * enforce only the addresses of MX hosts it names are kept (*n shrinks),
 * each under verify; under testing every one, under may, marked
 * sts_testing (and sts_named when the policy names it); otherwise may.  via_mx 0 (a route, an address
 * literal): may, nothing looked up.  dane_first (dane-sts, after
 * dane_plan): an address DANE decided for keeps DANE's plan and is kept,
 * named by the policy or not, and with DANE for all nothing is looked up
 * (RFC 8461 2).  Logs a line when it looks.  0 go on; 1 enforce left no
 * address (why set: the recipients are deferred). */
int sts_plan(struct addr *a, size_t *n, const char *domain, int via_mx, int dane_first, const char *qid,
             struct str *why);

/* ---- dial.c ---- */
/* A connected, non-blocking TCP socket to a (its port), within
 * timeout_s seconds; -1 with errno (ETIMEDOUT for the timeout). */
int tcp_dial(const struct addr *a, int timeout_s);

/* ---- localip.c ---- */
/* 1 if a is an address of this host (an interface address, loopback, 0.0.0.0). */
int addr_is_local(const struct addr *a);

/* ---- reply.c: a bounded SMTP reply ---- */
struct reply {
	unsigned code;     /* 0 when the read failed */
	struct str text;   /* every line after the code and separator, '\n' between */
	const char *err;   /* why the read failed */
};
/* Reads one reply: each line at most REPLY_LINE_MAX bytes, at most
 * REPLY_LINES_MAX lines, all with the same three-digit code.  A longer
 * line or reply is a protocol error: nothing grows without bound.
 * 0 ok, -1 failed (r->err set). */
int reply_read(struct io *in, struct reply *r);
/* "CODE text" with lines joined by "/", control bytes as '?', cut to max. */
void reply_quote(const struct reply *r, struct str *out, size_t max);

/* ---- smtp.c ---- */
struct job {
	const char *qid;
	const char *sender;
	size_t sender_len;
	size_t n;
	const char *rcpt[RCPT_MAX];
	size_t rcpt_len[RCPT_MAX];
	/* the DSN parameters (RFC 3461) for MAIL and for each RCPT, as
	 * dsn_params_ok takes them, "" for none: sent only to a server that
	 * offers DSN (doc/dsn.md, "Passing it on") */
	const char *mailparams;
	size_t mailparams_len;
	const char *rparams[RCPT_MAX];
	size_t rparams_len[RCPT_MAX];
	char st[RCPT_MAX];       /* 0: not yet, else K R Z D (R: K, and the DSN request ends here) */
	struct str text[RCPT_MAX];
	const char *msg;         /* the message, LF line ends */
	size_t msglen;
	int eightbit, utf8;
	int talked;              /* a server answered MAIL: the message reached a host */
	int timeout_connect, timeout_remote; /* seconds */
	const char *helo;
	const struct creds *auth; /* 0: no AUTH (only a smarthost route has any) */
	int auth_clear;          /* the host is in control/smtpauthplaintext */
	enum tls_policy tls;     /* control/remotetls's for the domain */
	char tlsproto[24];       /* the TLS protocol of its last transaction, "" in clear */
	/* MTA-STS mode testing at the address tried last: the attempt line
	 * says sts=testing, and what enforce would have refused there
	 * ("mx not in policy", "starttls not offered", the certificate's
	 * fault...), "" when nothing */
	int sts_testing;
	char sts_failure[STS_FAILURE_MAX];
};
/* The jobs not yet settled, at one address: a session, one transaction
 * per job, and a new session whenever a transaction leaves the connection
 * unfit for another.  Sets results for the recipients it settles; returns
 * 0 when none of the jobs needs another host, 1 when some do (a failed
 * connection, a 4xx to MAIL: why says what went wrong), 2 when no other
 * address is to be tried and the rest are deferred with why (the server
 * refused our credentials: the same ones would fail again).  Under policy
 * may, a failed TLS handshake is followed by one more session with the
 * same address in clear.  after_each
 * (if not 0) is called after every transaction, so a message's results
 * can be reported the moment they are known. */
/* 1 when every recipient of j has its result. */
int job_settled(const struct job *j);
int smtp_session(struct job **js, size_t n, const struct addr *a, struct str *why,
                 void (*after_each)(void));

/* ---- tls.c: outbound STARTTLS's engine (doc/tls.md, the C request) ---- */
#define TLS_HANDSHAKE_S 60 /* the engine's own limit for the handshake */
/* Asks postern-tlsd for a client engine on the connected socket fd, for
 * the host a (its name goes as SNI, or under dane the name its TLSA
 * records were found at): policy e for may and encrypt (t for may at a
 * host under MTA-STS testing), v for verify, d and a's TLSA records for
 * dane.  0 with fds as tlsreq_start's;
 * -1 with why set. */
int tls_client_engine(int fd, enum tls_policy pol, const struct addr *a, int fds[3], struct str *why);

/* ---- dane.c: policy dane (RFC 7672) ---- */
/* Each address's own policy from its host's TLSA records (a->tls,
 * a->tlsa): names_secure says the names were had securely (an MX
 * answer with the AD bit, or a route the admin wrote).  Logs a line a
 * host.  qid for the log. */
void dane_plan(struct addr *a, size_t n, int names_secure, const char *qid);

/* The policy that applies at a: the job's, or under dane, sts or
 * dane-sts the host's. */
enum tls_policy tls_effective(enum tls_policy job, const struct addr *a);
/* The engine's pipes made ready for the session's io.  0, or -1 (errno). */
int tls_client_switch(int rfd, int wfd);
#endif
