/* SPF at MAIL (doc/smtp.md, "SPF"): with control/spf, the domain of a
 * stranger's MAIL FROM (of its HELO name for the null sender) is asked
 * whether the client may send its mail (spf.c, RFC 7208).  The result is
 * logged and written in a Received-SPF field above our Received line;
 * control/spf 2 refuses a fail, 3 a permerror too and defers a temperror.
 * spf.c's lookups are asked one at a time through dnsrr.c, each waited for
 * at most 5 s, the whole check at most 20 s (RFC 7208 4.6.4 asks at least
 * that much of a check that times out). */
#include <arpa/inet.h>
#include <string.h>
#include "smtpd.h"
#include "addr.h"
#include "case.h"
#include "die.h"
#include "dnsrr.h"
#include "log.h"
#include "seconds.h"
#include "spf.h"

#define POSTMASTER "postmaster@" /* a HELO name's identity (RFC 7208 2.3, 2.4) */
#define POSTMASTER_LEN (sizeof POSTMASTER - 1)
#define SPF_QUERY_MS 5000
#define SPF_CHECK_MS 20000
/* Each check is bounded (RFC 7208's limits, 20 s), but a client may ask
 * for many: MAIL, RSET, MAIL from another sender whose record names
 * %{l}.  Past this many lookups in one session every check is temperror,
 * which a pipelining client cannot turn into a flood of queries. */
#define SPF_SESSION_LOOKUPS 500

struct question {
	struct dnsrr r;
	struct spf_answer *a;    /* where the answer goes */
	unsigned type;           /* as asked on the wire */
	int any_txt;             /* SPF_T_EXP: every TXT record counts, not only SPF's */
};

static struct question question;
static long long deadline_ms;
static unsigned session_lookups;

/* The last check of each identity in this session, kept unless
 * temporary, so that a MAIL again after RSET asks nothing: its identity
 * and HELO name, NUL between. */
struct kept {
	struct str key;
	enum spf_result result;
	char why[sizeof ((struct spf_request *)0)->why];
	char explanation[SPF_EXPLANATION_MAX + 1];
};
static struct kept kept_mailfrom, kept_helo;
/* This transaction's Received-SPF fields (HELO's first), or empty. */
static struct str field;
/* This transaction's MAIL FROM check, for DMARC (postern-dkimverify):
 * its result and the domain asked about, in A-labels and lower case. */
static int mailfrom_checked, mailfrom_helo;
static enum spf_result mailfrom_result;
static struct str mailfrom_domain;

/* RFC 7208 4.5: "v=spf1", in any case, then a space or the end */
static int spf_prefix(const char *s, size_t n)
{
	return n >= 6 && (n == 6 || s[6] == ' ') && case_eqn(s, "v=spf1", 6);
}

/* One record of the answer, of the type asked, into *a. */
static int fill(void *ctx, unsigned type, const unsigned char *m, size_t len, size_t rd, size_t rdlen)
{
	struct question *x = ctx;
	struct spf_answer *a = x->a;

	if (type != x->type)
		return 0; /* a CNAME on the way: the resolver followed it */
	a->n++;
	switch (type) {
	case SPF_T_A:
	case SPF_T_AAAA:
		if (rdlen != (type == SPF_T_A ? 4u : 16u))
			return -1;
		if (a->naddr < SPF_ADDRS_MAX)
			memcpy(a->addr[a->naddr++], m + rd, rdlen);
		return 0;
	case SPF_T_MX:
	case SPF_T_PTR: {
		size_t at = rd + (type == SPF_T_MX ? 2 : 0);
		if (rdlen < (type == SPF_T_MX ? 3u : 1u))
			return -1;
		/* a name no query can be made of is left out; the count stays */
		if (a->nname < SPF_NAMES_MAX && dns_name(m, len, at, a->name[a->nname], sizeof a->name[0]) != -1)
			a->nname++;
		return 0;
	}
	case SPF_T_TXT: {
		char text[SPF_RECORD_MAX + 1];
		size_t p = rd, end = rd + rdlen, tl = 0, all = 0;
		/* the first SPF_RECORD_MAX bytes kept, the rest only counted: a
		 * long record of another kind (over TCP) is none of ours */
		while (p < end) {
			size_t l = m[p++], keep;
			if (l > end - p)
				return -1;
			keep = l < SPF_RECORD_MAX - tl ? l : SPF_RECORD_MAX - tl;
			memcpy(text + tl, m + p, keep);
			tl += keep;
			all += l;
			p += l;
		}
		if (!x->any_txt && !spf_prefix(text, tl))
			return 0;
		if (a->nspf++ == 0) {
			memcpy(a->spf, text, tl);
			a->spf[tl] = 0;
			a->spflen = tl;
			a->spf_toolong = all > tl;
		}
		return 0;
	}
	}
	return 0;
}

static void forget(void *ctx)
{
	struct question *x = ctx;
	memset(x->a, 0, sizeof *x->a);
}

static int lookup(void *ctx, const char *name, unsigned type, struct spf_answer *a)
{
	struct dnsq *qs[1] = { &question.r.q };
	long long left = deadline_ms - monotonic_ms();
	int rcode;

	(void)ctx;
	if (left <= 0 || session_lookups >= SPF_SESSION_LOOKUPS)
		return -1;
	session_lookups++;
	question.a = a;
	question.any_txt = type == SPF_T_EXP;
	if (question.any_txt)
		type = SPF_T_TXT;
	question.type = type;
	question.r.fill = fill;
	question.r.forget = forget;
	question.r.ctx = &question;
	if (dnsrr_ask(&question.r, name, type) == 0) {
		long long wait = left < SPF_QUERY_MS ? left : SPF_QUERY_MS;
		dnsq_wait(qs, 1, wait);
		/* too long for UDP even with EDNS0 (many TXT records beside the
		 * SPF one): the same question over TCP, in the same time */
		dnsrr_tcp(&question.r, question.r.q.asked_ms + wait);
	}
	rcode = dnsrr_end(&question.r);
	/* a truncated answer may lack the record that would match: dnsrr
	 * settles on none but whole ones */
	a->status = rcode == 0 ? SPF_DNS_OK : rcode == 3 ? SPF_DNS_NXDOMAIN : SPF_DNS_ERROR;
	return rcode == -1 && deadline_ms - monotonic_ms() <= 0 ? -1 : 0;
}

/* b as a quoted string of RFC 5322: a quote or backslash escaped, a byte
 * that is not printable ASCII as '?' */
static int cat_quoted(struct str *out, const char *b, size_t n)
{
	size_t i;

	if (!str_catc(out, '"'))
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)b[i];
		if ((c == '"' || c == '\\') && !str_catc(out, '\\'))
			return 0;
		if (!str_catc(out, c >= 0x20 && c < 0x7f ? (char)c : '?'))
			return 0;
	}
	return str_catc(out, '"');
}

/* The comment of RFC 7208 9.1's examples, made of our own words only. */
static const char *comment(enum spf_result r)
{
	switch (r) {
	case SPF_PASS: return "designates the client as a permitted sender";
	case SPF_FAIL: return "does not designate the client as a permitted sender";
	case SPF_SOFTFAIL: return "does not designate the client as a permitted sender, softly";
	case SPF_NEUTRAL: return "neither permits nor denies the client";
	case SPF_NONE: return "has no SPF record";
	case SPF_TEMPERROR: return "could not be checked now";
	case SPF_PERMERROR: return "has an SPF record that cannot be used";
	}
	return "";
}

/* Appends one field: envelope-from is the transaction's sender as SPF
 * saw it, scope "mailfrom" or "helo" (RFC 7208 9.1's identity). */
static void build_field(enum spf_result r, const char *why, const char *sender, const char *helo,
                        const char *ip, const char *scope)
{
	int error = r == SPF_TEMPERROR || r == SPF_PERMERROR, matched = !strncmp(why, "matched ", 8);

	if (!str_cats(&field, "Received-SPF: ") || !str_cats(&field, spf_result_name(r)) ||
	    !str_cats(&field, " (") || !str_cat(&field, &cfg.me) || !str_cats(&field, ": the domain ") ||
	    !str_cats(&field, comment(r)) || !str_cats(&field, ")\n\treceiver=") || !str_cat(&field, &cfg.me) ||
	    !str_cats(&field, "; client-ip=") ||
	    !(strchr(ip, ':') ? cat_quoted(&field, ip, strlen(ip)) : str_cats(&field, ip)) ||
	    !str_cats(&field, ";\n\tenvelope-from=") || !cat_quoted(&field, sender, strlen(sender)) ||
	    /* a line of its own: a HELO name of 255 quotes is 512 bytes quoted */
	    !str_cats(&field, ";\n\thelo=") || !cat_quoted(&field, helo, strlen(helo)) ||
	    !str_cats(&field, "; identity=") || !str_cats(&field, scope))
		die_nomem();
	/* what decided: the domain's own term, or our account of the error */
	if ((matched || error) &&
	    (!str_cats(&field, ";\n\t") || !str_cats(&field, matched ? "mechanism=" : "problem=") ||
	     !cat_quoted(&field, why + (matched ? 8 : 0), strlen(why + (matched ? 8 : 0)))))
		die_nomem();
	if (!str_catc(&field, '\n'))
		die_nomem();
}

static void log_result(enum spf_result r, const char *why, const char *identity, int helo)
{
	struct logline l = { STR_INIT };

	log_begin(&l, "spf");
	log_kv(&l, "result", spf_result_name(r));
	log_kv(&l, "ip", client.ip);
	log_kv(&l, "identity", identity);
	if (helo)
		log_kv(&l, "scope", "helo");
	log_kv(&l, "why", why);
	log_end(&l);
}

void spf_forget(void)
{
	field.len = 0;
	mailfrom_checked = 0;
}

int spf_mailfrom(const char **result, const char **domain, int *helo)
{
	if (!mailfrom_checked)
		return 0;
	*result = spf_result_name(mailfrom_result);
	*domain = mailfrom_domain.s;
	*helo = mailfrom_helo;
	return 1;
}

const struct str *spf_field(void) { return &field; }

/* The reply for a refused result at level (control/spf's or spfhelo's),
 * naming the domain ("HELO name X" for spfhelo's) and the client, and,
 * for a fail, what the domain's exp= says (RFC 7208 6.2, 8.4): its own
 * words, printable ASCII, marked as its. */
static const char *refusal(enum spf_result r, const char *domain, unsigned long long level, int helo,
                           const char *explanation)
{
	static struct str reply;
	const char *code, *text;

	if (r == SPF_FAIL && level >= 2) {
		code = "550 5.7.23 SPF: ";
		text = " does not designate this client as a permitted sender: ";
	} else if (r == SPF_PERMERROR && level >= 3) {
		code = "550 5.7.24 SPF: ";
		text = " has an SPF record that cannot be used; client ";
	} else if (r == SPF_TEMPERROR && level >= 3) {
		code = "451 4.7.24 SPF: ";
		text = " cannot be checked now, try again later; client ";
	} else
		return 0;
	if (!str_copys(&reply, code) || (helo && !str_cats(&reply, "HELO name ")) || !str_cats(&reply, domain) ||
	    !str_cats(&reply, text) ||
	    !str_cats(&reply, client.ip))
		die_nomem();
	if (r == SPF_FAIL && explanation[0]) {
		/* within a reply line's 512 bytes (RFC 5321 4.5.3.1.5), CRLF
		 * and all: what does not fit of the explanation is cut */
		size_t base = reply.len + 2 + strlen(domain) + 11, n = strlen(explanation);
		if (base + 20 < 510) {
			if (n > 510 - base)
				n = 510 - base;
			if (!str_cats(&reply, "; ") || !str_cats(&reply, domain) || !str_cats(&reply, " explains: ") ||
			    !str_catb(&reply, explanation, n))
				die_nomem();
		}
	}
	return reply.s;
}

/* The domain of addr, from byte at on, as DNS knows it, in place (the
 * A-labels of a valid UTF-8 one); dns_domain_name's answer, addr left as
 * it was unless 1. */
static int domain_to_dns(struct str *addr, size_t at)
{
	static struct str ascii;
	int r = dns_domain_name(addr->s + at, addr->len - at, &ascii);

	if (r == 1 && (addr->len - at != ascii.len || memcmp(addr->s + at, ascii.s, ascii.len) != 0)) {
		str_truncate(addr, at);
		if (!str_cat(addr, &ascii))
			die_nomem();
	}
	return r;
}

/* One identity checked (or its kept result taken): identity is
 * local@domain, its domain from byte at on (a HELO name may hold an '@'
 * of its own, which makes it no domain).  Appends its field and returns
 * its refusal at level, or 0; 0 and no field when it cannot be asked. */
static const char *check(struct str *identity, size_t at, const char *sender, const char *helo,
                         const char *helo_dns, unsigned long long level, struct kept *kept, int is_helo)
{
	static struct spf_request req;
	struct str key = STR_INIT;
	char ip[INET6_ADDRSTRLEN];
	const char *domain, *why, *explanation;
	enum spf_result r;

	/* an address literal, a UTF-8 name that is no valid one, a HELO name
	 * that is no domain (an address, one with an '@'): not asked (4.3),
	 * and no field.  A name in UTF-8 is checked by its A-labels (4.3: "MUST
	 * be encoded as A-labels"), and the identity names it so. */
	if (domain_to_dns(identity, at) != 1 || !spf_identity_ok(identity->s + at, identity->len - at) ||
	    !(req.iplen = dns_client_address(req.ip)))
		return 0;
	domain = identity->s + at;
	if (!str_copyb(&key, identity->s, identity->len) || !str_catz(&key) || !str_cats(&key, helo))
		die_nomem();
	if (kept->key.len && kept->key.len == key.len && !memcmp(kept->key.s, key.s, key.len) &&
	    kept->result != SPF_TEMPERROR) {
		r = kept->result;
		why = kept->why;
		explanation = kept->explanation;
	} else {
		req.sender = identity->s;
		req.helo = helo_dns;
		req.lookup = lookup;
		req.explain = level >= 2; /* a fail is refused, and its reply says why */
		deadline_ms = monotonic_ms() + SPF_CHECK_MS;
		r = spf_check(&req);
		if (r == SPF_TEMPERROR && session_lookups >= SPF_SESSION_LOOKUPS)
			memcpy(req.why, "more than 500 DNS lookups in this session", 42);
		why = req.why;
		explanation = req.explanation;
		if (!str_copyb(&kept->key, key.s, key.len))
			die_nomem();
		kept->result = r;
		memcpy(kept->why, req.why, sizeof kept->why);
		memcpy(kept->explanation, req.explanation, sizeof kept->explanation);
		log_result(r, why, identity->s, is_helo);
	}
	str_free(&key);
	if (!inet_ntop(req.iplen == 4 ? AF_INET : AF_INET6, req.ip, ip, sizeof ip))
		memcpy(ip, "unknown", 8);
	build_field(r, why, is_helo ? sender : identity->s, helo, ip, is_helo ? "helo" : "mailfrom");
	if (!is_helo) {
		if (!str_copys(&mailfrom_domain, domain))
			die_nomem();
		lowercase(mailfrom_domain.s, mailfrom_domain.len);
		mailfrom_result = r;
		mailfrom_checked = 1;
	}
	return refusal(r, domain, level, is_helo, explanation);
}

const char *spf_refusal(const char *sender, size_t len, const char *helo)
{
	static struct str helo_dns, from;
	struct str identity = STR_INIT;
	unsigned long long level;
	const char *why = 0;

	field.len = 0;
	mailfrom_checked = 0;
	/* the HELO name as DNS knows it, for %{h}; one that is no valid name
	 * stays as written (and is no domain to check) */
	if (dns_domain_name(helo, strlen(helo), &helo_dns) != 1 && !str_copys(&helo_dns, helo))
		die_nomem();
	/* the HELO name's own record (RFC 7208 2.3), when the sender is not
	 * null; its field names the sender as the MAIL FROM check's does */
	if (cfg.spfhelo && len) {
		if (!str_copys(&identity, POSTMASTER) || !str_cats(&identity, helo))
			die_nomem();
		if (!str_copyb(&from, sender, len))
			die_nomem();
		(void)domain_to_dns(&from, addr_at(sender, len) + 1);
		why = check(&identity, POSTMASTER_LEN, from.s, helo, helo_dns.s, cfg.spfhelo, &kept_helo, 1);
	}
	/* MAIL FROM; for the null sender its identity is postmaster@ the HELO
	 * name (RFC 7208 2.4), the one control/spfhelo asks about as well, so
	 * it is checked once, at the higher of the two levels */
	level = len || cfg.spf > cfg.spfhelo ? cfg.spf : cfg.spfhelo;
	if (!why && level) {
		if (len ? !str_copyb(&identity, sender, len)
		        : !str_copys(&identity, POSTMASTER) || !str_cats(&identity, helo))
			die_nomem();
		mailfrom_helo = len == 0;
		why = check(&identity, len ? addr_at(sender, len) + 1 : POSTMASTER_LEN, 0, helo, helo_dns.s, level,
		            &kept_mailfrom, 0);
	}
	str_free(&identity);
	return why;
}
