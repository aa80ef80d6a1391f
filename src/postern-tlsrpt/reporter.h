/* postern-tlsrpt: the daily TLS reports (RFC 8460; doc/tlsrpt.md). */
#ifndef POSTERN_TLSRPT_PROG_H
#define POSTERN_TLSRPT_PROG_H
#include <stddef.h>
#include <time.h>
#include "str.h"
#include "tlsrpt.h"

#define R_FILE_MAX (16UL * 1024 * 1024 + TLSRPT_LINE_MAX) /* postern-remote stops writing past 16 MB */
#define P_LINES_MAX 64
#define P_LINE_MAX 300
#define P_FILE_MAX (P_LINES_MAX * (P_LINE_MAX + 1))
#define POLICIES_MAX 64        /* (TYPE, HASH) pairs a report; lines of more are skipped */
#define DETAILS_MAX 1000       /* failure-details a policy; the rest in the summary only */
#define MXHOSTS_MAX 64         /* a tlsa policy's mx-host entries */
#define DOMAINS_MAX 100000     /* r. files looked at a day */
#define DAYS_MAX 400           /* day directories looked at a run */
#define RETRY_DAYS 3           /* a report that could not be sent is tried until its day is this old */
#define TXT_KEEP 8             /* TXT records of an answer kept */
#define TXT_TEXT_MAX 4096      /* bytes kept of each */

/* ---- aggregate.c: one domain's day, from its record lines ---- */
struct detail {
	struct str key;        /* RESULT NUL SENDING_IP NUL MX_HOST NUL MX_IP NUL REASON */
	unsigned long long count;
};
struct policy {
	enum tlsrpt_type type;
	char hash[17];
	struct str text;       /* the p. file: policy-string's lines, each ending in LF */
	struct str mx;         /* tlsa: the MX hosts of its sessions, each ending in NUL */
	size_t nmx;
	unsigned long long ok, failed;
	struct detail *d;
	size_t nd;
	size_t *slot;          /* open addressing on the details: index + 1, 0 empty */
};
/* the p. file of hash: 1 with its bytes in text, 0 when there is none (or
 * it cannot be read as one) */
typedef int (*policy_loader)(void *ctx, const char *hash, struct str *text);
struct report {
	struct policy p[POLICIES_MAX];
	size_t np;
	unsigned long long lines, skipped, cut; /* cut: lines of policies past POLICIES_MAX */
	const char *why;                        /* the first skipped line's reason */
	policy_loader load;
	void *load_ctx;
};
void report_init(struct report *, policy_loader, void *ctx);
void report_free(struct report *);
/* Takes one line (without its LF); dies 111 out of memory. */
void report_line(struct report *, const char *line, size_t n);
/* 1 when text (n bytes) is a p. file as doc/tlsrpt.md says, hashing to hash */
int policy_text_ok(const char *text, size_t n, const char *hash);
unsigned long long report_sessions(const struct report *);
unsigned long long report_failures(const struct report *);

/* ---- json.c: the report (RFC 8460 4) ---- */
struct meta {
	const char *org, *contact, *domain, *me;
	char day[11];          /* YYYY-MM-DD */
	time_t begin, end;     /* the first and last second reported */
	char report_id[300];
};
/* m's day, begin, end and report_id from day (YYYYMMDD) and end */
int meta_day(struct meta *m, const char *day, time_t end);
int report_json(struct str *out, const struct report *, const struct meta *);

/* ---- message.c: the mail (doc/tlsrpt.md, step 4) ---- */
/* to: NUL-terminated addresses; token: a unique word for the Message-ID
 * and the MIME boundary. */
int report_message(struct str *out, const struct meta *, const char *from, const struct str *to, size_t nto,
                   const struct report *, const struct str *json, time_t now, const char *token);

/* ---- rua.c: where the report goes ---- */
enum rua_status { RUA_FOUND, RUA_NO_RECORD, RUA_NO_MAILTO, RUA_DNS_ERROR };
struct txt_records {
	struct str t[TXT_KEEP];
	int cut[TXT_KEEP];     /* longer than TXT_TEXT_MAX */
	size_t n, more;
};
/* From an answer's TXT records: the addresses to send to (each ending in
 * NUL, *nto of them, no two the same) and *https the https: URIs left
 * out; *why says what a RUA_NO_RECORD found. */
enum rua_status rua_pick(const struct txt_records *, struct str *to, size_t *nto, size_t *https, const char **why);
/* dns.c: _smtp._tls.DOMAIN's TXT records (RUA_DNS_ERROR when no answer settles it) */
enum rua_status rua_lookup(const char *domain, struct str *to, size_t *nto, size_t *https, const char **why);

/* ---- queue.c: postern-queue, null sender: 0, or its exit code (-1: not run) ---- */
int queue_report(const struct str *msg, const struct str *to, size_t nto);

/* ---- files.c: hostile files in a day's directory ---- */
/* name in dirfd, read if it is a regular file: 1 (*cut when it held more
 * than max, of which max are read), 0 absent, -1 error (errno; EINVAL not
 * a regular file) */
int read_hostile(int dirfd, const char *name, struct str *out, size_t max, int *cut);

/* ---- day.c: one day's reports ---- */
struct run {
	const struct tlsrpt_conf *conf;
	const char *me;
	time_t now;
	int today_too;         /* -a */
	unsigned long long reports, dropped, kept, skipped;
};
void day_report(struct run *, const char *day, int today);
#endif
