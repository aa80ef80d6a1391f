/* postern-smtpd's pieces share these declarations; see main.c for the
 * session and doc/smtp.md for the behaviour. */
#ifndef POSTERN_SMTPD_H
#define POSTERN_SMTPD_H
#include <stddef.h>
#include "str.h"
#include "tlsreq.h"

/* Settings from control/ (doc/control.md), read once per connection. */
struct config {
	struct str me;
	struct str locals;       /* NUL-separated domains */
	struct str rcpthosts;
	int has_rcpthosts;
	struct str vdomains;
	struct str separators;
	unsigned long long databytes, maxrcpt, timeout, session, maxerrors, greetdelay;
	unsigned long long starttls; /* 0: never ask postern-tlsd for TLS */
	unsigned long long queuefree; /* bytes the queue's file system keeps free (0: not checked) */
	/* submission (-a, RFC 6409): mail only after AUTH */
	int submission;
	int implicit_tls;            /* -s: TLS from the first byte (RFC 8314) */
	unsigned long long plaintext; /* submissionplaintext: AUTH in clear from afar */
	unsigned long long senders;   /* submissionsenders: 1 only the user's own addresses */
	unsigned long long sendlimit; /* submissionlimit: recipients a login may send to an hour (0: no limit) */
	int dkim;                     /* dkimdomains names a key: postern-dkimsign in postern-queue's place */
	unsigned long long dkimverify; /* 1: postern-dkimverify in postern-queue's place (port 25) */
	unsigned long long dmarc;     /* 1: DMARC recorded by postern-dkimverify, 2: p=reject refused */
	struct str dnsbl;             /* control/dnsbl's lines, NUL-separated (port 25 only) */
	struct str rhsbl;             /* control/rhsbl's, the same */
	struct str dnswl;             /* control/dnswl's, the same */
	unsigned long long senderdomaincheck; /* 1: a stranger's sender domain must take mail (port 25) */
	unsigned long long spf;       /* 1: SPF checked and recorded, 2: fail refused, 3: errors too (port 25) */
	unsigned long long spfhelo;   /* the same for the HELO name's own record (RFC 7208 2.3) */
	unsigned long long dsn;       /* DSN offered: 0 to nobody, 1 to RELAYCLIENTs and on submission, 2 to all */
};
extern struct config cfg;

/* Who is on the other end (UCSPI environment, validated). */
struct client {
	int local;               /* no TCP: sendmail -bs */
	int relay;               /* RELAYCLIENT set (or local), or authenticated */
	int loopback;            /* TCPREMOTEIP is 127.0.0.0/8, ::1 or ::ffff:127.0.0.0/104 */
	const char *ip;          /* TCPREMOTEIP, or "local" */
	const char *port;
	const char *localip;
	const char *host;        /* TCPREMOTEHOST when sane, else NULL */
	unsigned char localbin[16];
	size_t localbinlen;
};
extern struct client client;

/* policy.c: the verdict on one recipient address (local@domain, checked). */
enum rcpt_verdict { RC_OK, RC_RELAY, RC_TRICK, RC_LITERAL, RC_UNKNOWN, RC_TEMP };
enum rcpt_verdict rcpt_policy(const char *addr, size_t len, size_t at);
int config_load(void);     /* 0 ok, -1 error (errno) */
/* The sender addr (local@domain checked, or empty) is one the login user
 * may send as: 1 yes, 0 no, -1 the recipient table cannot say. */
int sender_owned(const char *user, size_t ulen, const char *addr, size_t len, size_t at);

/* The DNS questions one session may have in dnsq.c at once: each is a
 * static struct asked again for each new subject. */
#define DNSQ_LISTS_MAX 8       /* zones of control/dnsbl, and again of rhsbl and of dnswl */
#define DNSQ_SENDER_QUESTIONS 3 /* a sender domain's MX, A and AAAA */
#define DNSQ_SPF_QUESTIONS 1    /* SPF asks one question at a time */
#define SMTPD_DNS_QUESTIONS (3 * DNSQ_LISTS_MAX + DNSQ_SENDER_QUESTIONS + DNSQ_SPF_QUESTIONS)

/* dnsbl.c: the DNS blocklists of control/dnsbl and control/rhsbl, and the
 * lists of good senders of control/dnswl that override them (doc/smtp.md).
 * dnsbl_start sends the lookups of the client's address for a client
 * that is neither trusted nor logged in, rhsbl_start those of
 * a transaction's sender domain (len 0: the null sender); dnsbl_refusal
 * waits for them (at most 5 s from when they were asked), logs what they
 * found, and returns the 554 for a listed client or sender, or NULL (the
 * caller lets postmaster through all the same). */
void dnsbl_start(void);
void rhsbl_start(const char *domain, size_t len);
/* 1 when the DNS checks apply to this client: not a RELAYCLIENT, a local
 * user, one who logs in (submission), nor one whose rule sets skip. */
int dns_stranger(const char *skip);
/* The client's address as 4 or 16 bytes (IPv4-mapped as 4): its length,
 * 0 for none (sendmail -bs). */
size_t dns_client_address(unsigned char *bin);
const char *dnsbl_refusal(void);

/* senderdns.c: with control/senderdomaincheck, the refusal for MAIL FROM
 * an address at domain (len bytes) that no mail can go back to (550), or
 * whose records cannot be had now (451); NULL when it takes mail, or is an
 * address literal or a UTF-8 name that is no valid one (not looked up; a
 * valid one is looked up by its A-labels).  Waits at most 5 s. */
const char *sender_domain_refusal(const char *domain, size_t len);

/* spfcheck.c: with control/spfhelo, the SPF check (RFC 7208) of the HELO
 * name (not for the null sender), then with control/spf that of MAIL FROM
 * sender (len bytes; 0: the null sender, whose HELO name is checked): logs
 * each result, keeps this transaction's Received-SPF fields (spf_field),
 * and returns the refusal control/spfhelo or control/spf asks for (550, or
 * 451 for a temperror), or NULL.  Waits at most 20 s a check.  spf_forget
 * drops the fields. */
const char *spf_refusal(const char *sender, size_t len, const char *helo);
const struct str *spf_field(void);
void spf_forget(void);
/* The transaction's MAIL FROM check (for the null sender, the HELO
 * name's, *helo 1): 1 with its result's name and the domain (A-labels,
 * lower case); 0 when none was made. */
int spf_mailfrom(const char **result, const char **domain, int *helo);

/* sendlimit.c: one recipient taken from login's hourly allowance
 * (control/submissionlimit): 1 taken, 0 none left, -1 error (errno). */
int sendlimit_take(const char *login, size_t n);

/* srs.c: the way back of SRS (doc/srs.md) for the recipient addr (len
 * bytes, its '@' at at, checked): SRSV_NO when it is no SRS address of
 * control/srsdomain (or SRS is off), SRSV_OK with the address it stands
 * for in out, SRSV_BAD (forged or malformed), SRSV_EXPIRED (*why says
 * which, for the log), or SRSV_TEMP when control/srsdomain or the key
 * cannot be had (logged). */
enum srs_verdict { SRSV_NO, SRSV_OK, SRSV_BAD, SRSV_EXPIRED, SRSV_TEMP };
enum srs_verdict srs_rcpt(const char *addr, size_t len, size_t at, struct str *out, const char **why);

/* room.c: control/queuefree's refusal at MAIL for a message of declared
 * bytes, or 0 when there is room. */
const char *room_refusal(unsigned long long declared);

/* queue.c: one postern-queue child per message. */
/* 0 ok, -1 failed to start; login is who authenticated (empty: nobody),
 * whose domains alone postern-dkimsign may sign for */
int queue_start(const struct str *login);
void queue_put(const char *b, size_t n);       /* errors are remembered */
/* The client's bytes of the message (queue_put is for this process's
 * own fields), with forged Authentication-Results fields taken out
 * (src/lib/authres.h); queue_header_end before fields are added at the
 * header's end; how many were taken out. */
void queue_put_message(const char *b, size_t n);
void queue_header_end(void);
unsigned long queue_forged_removed(void);
void queue_abort(void);                        /* no envelope: the child commits nothing */
/* Sends the envelope and waits; returns the reply text for a refusal, or
 * 0 with the committed message's queue id in qid (empty if none came back). */
const char *queue_finish(const struct str *envelope, struct str *qid);

/* fixup.c: the Date and Message-ID a submitted message's header lacks
 * (struct body's account of it), written to postern-queue when put (not
 * for a message already refused); the BODY_ bits of what it wrote. */
struct body;
int fixup_fields(const struct body *b, int put);

/* received.c: tls, when not NULL, is the TLS protocol and cipher for a
 * comment "(using PROTOCOL with cipher CIPHER)" */
struct tls_report;
int received_build(struct str *out, const char *helo, const char *proto, const struct tls_report *tls,
                   const char *id, const char *rcpt, size_t rcptlen);

/* tls.c: STARTTLS's helper, the application side of UCSPI-TLS (doc/tls.md);
 * struct tls_report is src/lib/tlsreq.h's. */
int tls_env(void);       /* SSLCTLFD, SSLREADFD, SSLWRITEFD: 1 usable, 0 absent, -1 malformed */
int tls_offer(void);     /* EHLO may say STARTTLS: a helper is here or postern-tlsd is */
int tls_helper(void);    /* 0: a helper is ready; -1: none (tls_why) */
/* Starts the handshake and waits for it: 0 with the plaintext pipes in
 * *rfd and *wfd, -1 when it failed (tls_why): the client then no longer
 * speaks SMTP in clear. */
int tls_start(struct tls_report *, int *rfd, int *wfd);
const struct str *tls_why(void);

#endif
