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

#define USAGE "postern-dkimverify -h authserv-id"

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
static int key_found(struct check *c, const struct key_answer *a)
{
	const char *why = "no key for signature";
	size_t i;

	if (a->status == KEY_FAILED) {
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
	result(c, "pass", 0);
	if (c->key.testing)
		c->r.comment = "test mode";
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

/* The results of msg's signatures, as its Authentication-Results field. */
static void verify(const char *msg, size_t len, const char *id, struct str *field)
{
	struct dkimv_result rs[DKIMV_SIGS_MAX];
	size_t nfields = 0, body = len, n = 0, i, left = 0;
	time_t now = time(0);

	log_hold();
	if (len && dkim_fields(msg, len, fields, DKIM_FIELDS_MAX, &nfields, &body) == -1) {
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
			keys_ask((size_t)(c - checks), c->sig.d, c->sig.s);
	}
	for (i = 0; i < n; i++)
		if (!checks[i].r.result)
			(void)body_holds(&checks[i], checks, i, msg + body, len - body);
	keys_wait();
	for (i = 0; i < n; i++) {
		struct check *c = &checks[i];
		/* a body that did not hold up was still asked about: its
		 * answer is not waited for twice */
		if (!c->r.result && key_found(c, keys_answer(i)))
			header_holds(c, nfields);
		log_check(c);
		rs[i] = c->r;
	}
	if (left) {
		struct logline l = { STR_INIT };
		log_begin(&l, "dkim verify");
		log_kvu(&l, "signatures_left", left);
		log_end(&l);
	}
	if (dkimv_ar_field(field, id, rs, n) == -1)
		die(QF_NOMEM, "fatal: out of memory");
	for (i = 0; i < n; i++)
		dkimv_sig_free(&checks[i].sig);
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
	while ((opt = getopt(argc, argv, "h:")) != -1) {
		if (opt == 'h')
			id = optarg;
		else
			die_usage(USAGE);
	}
	if (optind != argc || !id)
		die_usage(USAGE);
	if (!id_ok(id))
		die(QF_BUG, "fatal: -h: not a host name: ", id);
	qf_start(QF_DEADLINE, &databytes);

	memfd = qf_hold("postern-dkimverify", databytes, &len);
	msg = qf_map(memfd, len);
	qf_envelope_coming();
	verify(msg, len, id, &field);
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
