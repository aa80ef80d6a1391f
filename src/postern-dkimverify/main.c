/* postern-dkimverify: checks the DKIM signatures of a message coming in
 * (RFC 6376, RFC 8463, RFC 8301) and records what they are worth in an
 * Authentication-Results field (RFC 8601) on top of it, then becomes
 * postern-queue.  doc/dkim.md ("Verifying"), postern-dkimverify(8).
 *
 * usage: postern-dkimverify -h authserv-id
 *
 * postern-smtpd starts it in postern-queue's place for a port-25 message
 * when control/dkimverify is 1 (not for a RELAYCLIENT, nor on
 * submission): the qmail-queue interface on both sides, the message held
 * whole in a memfd (src/lib/qqfilter.h).  It runs as postern-smtpd, holds
 * nothing secret, and asks the DNS only for key records.
 *
 * Each of the first DKIMV_SIGS_MAX DKIM-Signature fields, top down, gets
 * one result: pass, fail (the message or the signature does not hold up,
 * or it expired), permerror (the signature or its key cannot be used),
 * temperror (the key could not be looked up).  A result never refuses a
 * message: what to make of it is the reader's business, or a filter's,
 * with DMARC.  Authentication-Results fields that name this host are
 * taken out of what came in, so that the only one naming it is ours.
 * One log line a signature.
 *
 * The field goes into the memfd's room before the message, with the
 * header lines it replaces; postern-queue reads from there. */
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bearssl.h>
#include "verify.h"
#include "die.h"
#include "case.h"
#include "dkimverify.h"
#include "log.h"
#include "qqfilter.h"

#define USAGE "postern-dkimverify -h authserv-id [-p 0|1|2] [-s spf-result -f domain | -s spf-result -H helo]"
#define QF_DMARC 32 /* refused by DMARC: postern-smtpd answers 550 5.7.1 */

struct check {
	struct dkimv_sig sig;
	const char *parse_error;   /* dkimv_sig_parse's verdict */
	int named;                 /* d= and s= were read: the field may name them */
	struct dkimv_result r;
	size_t field;              /* its index in the header's fields */
	struct dkimv_key key;
	int hashed;                /* digest and total are its body's */
	unsigned char digest[32];
	unsigned long long total;  /* the canonical body's length, before any l= */
};

static struct dkim_field fields[DKIM_FIELDS_MAX];
static struct check checks[DKIMV_SIGS_MAX];
static struct spf_in spf;     /* -s, -f, -H */
static int dmarc_level;       /* -p */

static int is_signature(const struct dkim_field *f)
{
	return f->namelen == 14 && case_eqn(f->name, "dkim-signature", 14);
}

static void hash_out(void *ctx, const char *b, size_t n)
{
	br_sha256_update(ctx, b, n);
}

static void result(struct check *c, const char *res, const char *reason)
{
	c->r.result = res;
	c->r.reason = reason;
	c->r.sig = c->named ? &c->sig : 0;
}

/* RFC 6376 6.1.3's body hash, before any key is asked: a large body
 * takes a while, and the lookups are in flight meanwhile.  A signature
 * whose canonicalization and l= an earlier one had takes its hash (a
 * domain's RSA and Ed25519 signatures, as postern-dkimsign makes them). */
static int body_holds(struct check *c, const struct check *earlier, size_t nearlier, const char *body, size_t n)
{
	struct dkimv_body b;
	br_sha256_context sha;
	size_t i;

	for (i = 0; i < nearlier && !c->hashed; i++) {
		const struct check *e = &earlier[i];
		if (e->hashed && e->sig.bcanon == c->sig.bcanon && e->sig.has_l == c->sig.has_l &&
		    (!c->sig.has_l || e->sig.l == c->sig.l)) {
			memcpy(c->digest, e->digest, sizeof c->digest);
			c->total = e->total;
			c->hashed = 1;
		}
	}
	if (!c->hashed) {
		br_sha256_init(&sha);
		dkimv_body_init(&b, &c->sig, hash_out, &sha);
		dkimv_body_put(&b, body, n);
		c->total = dkimv_body_end(&b);
		br_sha256_out(&sha, c->digest);
		c->hashed = 1;
	}
	if (c->sig.has_l && c->sig.l > c->total) {
		result(c, "fail", "body shorter than l=");
		return 0;
	}
	if (memcmp(c->digest, c->sig.bh, sizeof c->digest) != 0) {
		result(c, "fail", "body hash did not verify");
		return 0;
	}
	return 1;
}

/* The key for c among its answer's records: the first that reads as a
 * DKIM key; 0 with a result set when there is none. */
static int key_found(struct check *c, const struct txt_answer *a)
{
	const char *why = "no key for signature";
	size_t i;

	if (a->status == TXT_FAILED) {
		result(c, "temperror", "key lookup failed");
		return 0;
	}
	if (a->n == 0 && a->toolong)
		why = "malformed key record";
	for (i = 0; i < a->n; i++) {
		const char *w = dkimv_key_parse(a->txt[i].s, a->txt[i].len, &c->key);
		if (!w)
			break;
		why = w;
	}
	if (i == a->n) {
		result(c, "permerror", why);
		return 0;
	}
	if ((why = dkimv_key_fits(&c->key, &c->sig))) {
		result(c, "permerror", why);
		return 0;
	}
	return 1;
}

/* 1 when the message has more From fields than c's h= names: one a
 * reader may see as the author is then outside the signature (RFC 6376
 * 8.15), added above a signed message. */
static int from_unsigned(const struct check *c, size_t nfields)
{
	size_t i, inmsg = 0, signed_ = 0;

	for (i = 0; i < nfields; i++)
		if (fields[i].namelen == 4 && case_eqn(fields[i].name, "from", 4))
			inmsg++;
	for (i = 0; i < c->sig.h.len; i += strlen(c->sig.h.s + i) + 1)
		if (!strcmp(c->sig.h.s + i, "from"))
			signed_++;
	return inmsg > signed_;
}

static void header_holds(struct check *c, size_t nfields)
{
	struct str data = STR_INIT;
	br_sha256_context sha;
	unsigned char digest[32];
	const char *why;

	if (dkimv_header_data(fields, nfields, c->field, &c->sig, &data) == -1)
		die(QF_NOMEM, "fatal: out of memory");
	br_sha256_init(&sha);
	br_sha256_update(&sha, data.s, data.len);
	br_sha256_out(&sha, digest);
	str_free(&data);
	if ((why = crypto_verify(&c->sig, &c->key, digest))) {
		result(c, strcmp(why, "signature did not verify") ? "permerror" : "fail", why);
		return;
	}
	/* the arithmetic holds; what it vouches for may still fall short */
	if (from_unsigned(c, nfields))
		result(c, "policy", "unsigned from field");
	else if (c->key.testing) {
		/* RFC 6376 3.6.1: a domain testing DKIM is to be treated as
		 * unsigned, so no pass that DMARC or a reader would count */
		result(c, "neutral", 0);
		c->r.comment = "test mode";
	} else {
		result(c, "pass", 0);
		/* RFC 6376 8.2: what follows l= is anyone's */
		if (c->sig.has_l && c->total > c->sig.l)
			c->r.comment = "partial body";
	}
}

static void log_check(const struct check *c)
{
	struct logline l = { STR_INIT };

	log_begin(&l, "dkim verify");
	log_kv(&l, "result", c->r.result);
	if (c->r.reason)
		log_kv(&l, "reason", c->r.reason);
	if (c->named) {
		log_kv(&l, "d", c->sig.d);
		log_kv(&l, "s", c->sig.s);
	}
	if (c->r.comment)
		log_kv(&l, "note", c->r.comment);
	log_end(&l);
}

static void key_ask(size_t i, const struct dkimv_sig *s)
{
	struct str name = STR_INIT;

	if (!str_cats(&name, s->s) || !str_cats(&name, "._domainkey.") || !str_cats(&name, s->d) || !str_catz(&name))
		die(QF_NOMEM, "fatal: out of memory");
	txt_ask(i, name.s);
	str_free(&name);
}

/* The results of msg's signatures, and with control/dmarc of SPF and
 * DMARC, as its Authentication-Results field; 1 when DMARC refuses it. */
static int verify(const char *msg, size_t len, const char *id, struct str *field)
{
	struct dkimv_result rs[DKIMV_SIGS_MAX];
	const char *passed[DKIMV_SIGS_MAX];
	size_t nfields = 0, body = len, n = 0, i, left = 0, npassed = 0;
	time_t now = time(0);
	int readable = 1, refuse = 0;

	log_hold();
	if (len && dkim_fields(msg, len, fields, DKIM_FIELDS_MAX, &nfields, &body) == -1) {
		readable = 0;
		/* no signature over such a header could be checked the way its
		 * signer meant it */
		struct logline l = { STR_INIT };
		log_begin(&l, "dkim verify");
		log_kv(&l, "result", "none");
		log_kv(&l, "why", "header_unreadable");
		log_end(&l);
		nfields = 0;
	}
	for (i = 0; i < nfields; i++) {
		struct check *c;
		if (!is_signature(&fields[i]))
			continue;
		if (n == DKIMV_SIGS_MAX) {
			left++;
			continue;
		}
		c = &checks[n++];
		memset(&c->r, 0, sizeof c->r);
		c->hashed = 0;
		c->field = i;
		c->parse_error = dkimv_sig_parse(&fields[i], &c->sig);
		if (c->parse_error && !strcmp(c->parse_error, "out of memory"))
			die(QF_NOMEM, "fatal: out of memory");
		/* past its form, a signature's names were read (dkimverify.h) */
		c->named = !c->parse_error || (strcmp(c->parse_error, "malformed signature") &&
		                               strcmp(c->parse_error, "unsupported version"));
		if (c->parse_error)
			result(c, "permerror", c->parse_error);
		else if (c->sig.has_x && (unsigned long long)now > c->sig.x)
			result(c, "fail", "signature expired");
		else
			key_ask((size_t)(c - checks), &c->sig);
	}
	if (dmarc_level)
		policy_begin(fields, nfields, readable);
	for (i = 0; i < n; i++)
		if (!checks[i].r.result)
			(void)body_holds(&checks[i], checks, i, msg + body, len - body);
	txt_wait();
	for (i = 0; i < n; i++) {
		struct check *c = &checks[i];
		/* a body that did not hold up was still asked about: its
		 * answer is not waited for twice */
		if (!c->r.result && key_found(c, txt_answer(i)))
			header_holds(c, nfields);
		log_check(c);
		rs[i] = c->r;
		if (!strcmp(c->r.result, "pass"))
			passed[npassed++] = c->sig.d;
	}
	if (left) {
		struct logline l = { STR_INIT };
		log_begin(&l, "dkim verify");
		log_kvu(&l, "signatures_left", left);
		log_end(&l);
	}
	{
		struct dkimv_sig *named[DKIMV_SIGS_MAX];
		for (i = 0; i < n; i++)
			named[i] = checks[i].named ? &checks[i].sig : 0;
		dkimv_bshow(named, n);
	}
	if (dkimv_ar_field(field, id, rs, n) == -1)
		die(QF_NOMEM, "fatal: out of memory");
	/* SPF's result is Received-SPF's; here it is what DMARC weighed */
	if (dmarc_level) {
		policy_spf_clause(field, &spf);
		refuse = policy_finish(passed, npassed, &spf, dmarc_level, field);
	}
	for (i = 0; i < n; i++)
		dkimv_sig_free(&checks[i].sig);
	return refuse;
}

static int spf_result_ok(const char *s)
{
	static const char *const names[] = { "none", "neutral", "pass", "fail", "softfail", "temperror", "permerror" };
	size_t i;

	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		if (!strcmp(s, names[i]))
			return 1;
	return 0;
}

/* An authserv-id we write: a host name's bytes, nothing that would end
 * the token or need quoting. */
static int id_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > DKIMV_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		      s[i] == '-' || s[i] == '.' || s[i] == '_'))
			return 0;
	return 1;
}

int main(int argc, char **argv)
{
	unsigned long long databytes = 0;
	struct str field = STR_INIT, head = STR_INIT;
	const char *id = 0, *msg;
	size_t len, replaced, removed;
	int memfd, opt;

	progname = "postern-dkimverify";
	while ((opt = getopt(argc, argv, "h:p:s:f:H:")) != -1) {
		if (opt == 'h')
			id = optarg;
		else if (opt == 'p') {
			if (strlen(optarg) != 1 || optarg[0] < '0' || optarg[0] > '2')
				die(QF_BUG, "fatal: -p wants 0, 1 or 2: ", optarg);
			dmarc_level = optarg[0] - '0';
		} else if (opt == 's') {
			if (!spf_result_ok(optarg))
				die(QF_BUG, "fatal: -s: not an SPF result: ", optarg);
			spf.result = optarg;
		} else if (opt == 'f' || opt == 'H') {
			if (!dkim_name_ok(optarg, strlen(optarg)))
				die(QF_BUG, "fatal: -f or -H: not a domain: ", optarg);
			spf.domain = optarg;
			spf.helo = opt == 'H';
		} else
			die_usage(USAGE);
	}
	if (optind != argc || !id || !spf.result != !spf.domain)
		die_usage(USAGE);
	if (!id_ok(id))
		die(QF_BUG, "fatal: -h: not a host name: ", id);
	qf_start(QF_DEADLINE, &databytes);

	memfd = qf_hold("postern-dkimverify", databytes, &len);
	msg = qf_map(memfd, len);
	qf_envelope_coming();
	if (verify(msg, len, id, &field)) {
		/* control/dmarc 2 and a domain that asks for it: nothing queued */
		log_flush();
		_exit(QF_DMARC);
	}
	header_rewrite(msg, len, id, &field, &head, &replaced, &removed);
	if (removed) {
		struct logline l = { STR_INIT };
		log_begin(&l, "dkim removed");
		log_kvu(&l, "authentication_results", removed);
		log_end(&l);
	}
	qf_unmap(msg, len);
	/* head stands for the first replaced bytes of the message, and
	 * ends where they end */
	if (head.len > QF_RESERVE + replaced)
		die(QF_BUG, "fatal: internal bug: the header outgrew its room");
	if (pwrite(memfd, head.s, head.len, (off_t)(QF_RESERVE + replaced - head.len)) != (ssize_t)head.len)
		die_sys(QF_NOMEM, "fatal: unable to write the Authentication-Results field");
	qf_queue(memfd, (off_t)(QF_RESERVE + replaced - head.len));
}
