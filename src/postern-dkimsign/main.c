/* postern-dkimsign: signs a message with its From domain's DKIM keys
 * (RFC 6376, RFC 8463) on its way into the queue, then becomes
 * postern-queue.  doc/dkim.md, postern-dkimsign(8).
 *
 * usage: postern-dkimsign [-v]
 *
 * It speaks the qmail-queue interface on both sides, so that postern-smtpd
 * -a and postern-inject start it in postern-queue's place when
 * control/dkimdomains names a key: the message on fd 0, read whole into
 * memory (a memfd, so that no file of it is left anywhere); the envelope on
 * fd 1, never read here but left for postern-queue, as is the answer
 * postern-queue writes back on it.  It runs as its caller (postern-submit,
 * or the local user), holds no key, and asks postern-dkim for one signature
 * a key over the SHA-256 of what is signed.
 *
 * A message is signed when its header section can be read, it has one From
 * field with one address, and postern-dkim has keys for that address's
 * domain or a parent of it; otherwise it goes on unsigned (logged with -v),
 * as a mailer without keys would send it.  Failing to ask postern-dkim is a
 * temporary failure (exit 74): a domain with keys never sends unsigned mail
 * because its key holder was down.
 *
 * The signature fields are written just before the message in the same
 * memfd, whose first megabyte is left unwritten for them (a hole costs no
 * memory), and postern-queue reads from there: the message is never
 * copied. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bearssl.h>
#include "dkimsign.h"
#include "base64.h"
#include "control.h"
#include "die.h"
#include "dkim.h"
#include "fmt.h"
#include "log.h"
#include "qqfilter.h"

#define USAGE "postern-dkimsign [-v] [-t seconds] [-d domain]... [-f address]..."

static int verbose;

static void hash_out(void *ctx, const char *b, size_t n)
{
	br_sha256_update(ctx, b, n);
}

static void b64(const unsigned char *in, size_t n, struct str *out)
{
	if (!str_ready(out, (n + 2) / 3 * 4 + 1))
		ds_nomem();
	out->len = b64_encode(in, n, out->s, out->cap);
	if (!out->len)
		die(DS_BUG, "fatal: internal bug: base64 out of room");
}

static void unsigned_log(const char *why, const struct str *dom)
{
	struct logline l = { STR_INIT };
	if (!verbose)
		return;
	log_begin(&l, "dkim unsigned");
	log_kv(&l, "why", why);
	if (dom && dom->len)
		log_kvb(&l, "from_domain", dom->s, dom->len);
	log_end(&l);
}

static void signed_log(const struct ds_answer *a)
{
	struct logline l = { STR_INIT };
	size_t i;
	if (!verbose)
		return;
	log_begin(&l, "dkim signed");
	log_kvb(&l, "d", a->domain.s, a->domain.len);
	for (i = 0; i < a->nkeys; i++) {
		log_kvb(&l, "s", a->keys[i].selector.s, a->keys[i].selector.len);
		log_kv(&l, "a", dkim_alg_name(a->keys[i].alg));
	}
	log_end(&l);
}

/* The DKIM-Signature fields for msg, into out (empty: unsigned). */
static void sign(const char *msg, size_t len, struct str *out)
{
	static struct dkim_field f[DKIM_FIELDS_MAX];
	struct str dom = STR_INIT, from = STR_INIT, h = STR_INIT, fields = STR_INIT, head = STR_INIT, hashed = STR_INIT, enc = STR_INIT;
	struct ds_answer a;
	struct dkim_body body;
	br_sha256_context sha;
	unsigned char digest[32];
	size_t n, at, i;
	const char *why;
	time_t now = time(0);
	int r;

	memset(&a, 0, sizeof a);
	if (dkim_fields(msg, len, f, DKIM_FIELDS_MAX, &n, &at) == -1) {
		unsigned_log("header_unreadable", 0);
		return;
	}
	if (dkim_from_address(f, n, &dom, &from) == -1) {
		unsigned_log("no_single_from_address", 0);
		str_free(&from);
		return;
	}
	why = policy_check(&dom, &from);
	str_free(&from);
	if (why) {
		unsigned_log(why, &dom);
		str_free(&dom);
		return;
	}
	/* all the hashing that does not depend on the key first: postern-dkim
	 * gives each record a few seconds, and a large body takes a while */
	br_sha256_init(&sha);
	dkim_body_init(&body, hash_out, &sha);
	dkim_body_put(&body, msg + at, len - at);
	dkim_body_end(&body);
	br_sha256_out(&sha, digest);
	b64(digest, sizeof digest, &enc);
	if (dkim_signed_fields(f, n, &h, &fields) == -1)
		ds_nomem();

	if ((r = ask_keys(&dom, &a, &why)) == -1)
		die(DS_SIGN, "fatal: unable to sign the message: ", why);
	if (r == 0) {
		ask_close();
		unsigned_log("no_key", &dom);
		str_free(&dom);
		str_free(&h);
		str_free(&fields);
		str_free(&enc);
		return;
	}

	for (i = 0; i < a.nkeys; i++) {
		struct ds_key *k = &a.keys[i];
		struct str sigtext = STR_INIT;
		head.len = 0;
		if (dkim_sig_head(&head, dkim_alg_name(k->alg), a.domain.s, k->selector.s, now, &h, enc.s) == -1)
			ds_nomem();
		if (!str_copyb(&hashed, fields.s, fields.len) || dkim_sig_hashed(&head, &hashed) == -1)
			ds_nomem();
		br_sha256_init(&sha);
		br_sha256_update(&sha, hashed.s, hashed.len);
		br_sha256_out(&sha, digest);
		if (ask_sign(k, digest, &why) == -1)
			die(DS_SIGN, "fatal: unable to sign the message: ", why);
		b64((const unsigned char *)k->sig.s, k->sig.len, &sigtext);
		if (dkim_sig_finish(&head, sigtext.s) == -1 || !str_cat(out, &head))
			ds_nomem();
		str_free(&sigtext);
	}
	ask_close();
	signed_log(&a);
	for (i = 0; i < a.nkeys; i++) {
		str_free(&a.keys[i].sig);
		str_free(&a.keys[i].selector);
	}
	str_free(&a.domain);
	str_free(&dom);
	str_free(&h);
	str_free(&fields);
	str_free(&head);
	str_free(&hashed);
	str_free(&enc);
}

int main(int argc, char **argv)
{
	unsigned long long databytes = 0, deadline = QF_DEADLINE;
	struct str sig = STR_INIT;
	size_t len;
	const char *msg;
	int memfd, opt;

	progname = "postern-dkimsign";
	while ((opt = getopt(argc, argv, "vd:f:t:")) != -1) {
		if (opt == 'v')
			verbose = 1;
		else if (opt == 't') {
			/* postern-send's bounces: the scheduler waits for us */
			if (!scan_ulong_all(optarg, strlen(optarg), &deadline) || deadline == 0 || deadline > QF_DEADLINE)
				die(DS_BUG, "fatal: -t wants 1 to 86400 seconds: ", optarg); /* as a bad -d */
		}
		else if (opt == 'd')
			policy_allow(optarg);
		else if (opt == 'f')
			policy_allow_address(optarg);
		else
			die_usage(USAGE);
	}
	if (optind != argc)
		die_usage(USAGE);
	qf_start(deadline, &databytes);
	policy_load();

	memfd = qf_hold("postern-dkimsign", databytes, &len);
	msg = qf_map(memfd, len);
	qf_envelope_coming();
	if (len)
		sign(msg, len, &sig);
	else
		unsigned_log("empty", 0);
	qf_unmap(msg, len);
	if (sig.len > QF_RESERVE)
		die(DS_BUG, "fatal: internal bug: the signature fields outgrew their room");
	if (sig.len && pwrite(memfd, sig.s, sig.len, (off_t)(QF_RESERVE - sig.len)) != (ssize_t)sig.len)
		die_sys(DS_NOMEM, "fatal: unable to write the signature fields");
	qf_queue(memfd, (off_t)(QF_RESERVE - sig.len));
}
