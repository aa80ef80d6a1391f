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
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <bearssl.h>
#include "dkimsign.h"
#include "base64.h"
#include "control.h"
#include "die.h"
#include "dkim.h"
#include "fmt.h"
#include "home.h"
#include "log.h"

#define RESERVE (1024 * 1024)     /* room before the message for the fields */
#define TRACE_ALLOWANCE 65536     /* as postern-queue's: headers added on the way */
#define DEADLINE 86400            /* as postern-queue's, for reading the message */
#define HELD_MAX (256ULL << 20)   /* the largest message held, databytes or not */
#define USAGE "postern-dkimsign [-v] [-t seconds] [-d domain]... [-f address]..."

static int verbose;

static void on_alarm(int sig)
{
	(void)sig;
	_exit(DS_TIMEOUT);
}

/* fd 0 into memfd from RESERVE on: the message's length. */
static size_t message_in(int memfd, unsigned long long databytes)
{
	static char buf[65536];
	unsigned long long total = 0;

	for (;;) {
		ssize_t r = read(0, buf, sizeof buf), w;
		size_t done = 0;
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			die_sys(DS_READ, "fatal: unable to read the message");
		if (r == 0)
			break;
		total += (unsigned long long)r;
		if (total > databytes + TRACE_ALLOWANCE)
			die(DS_REFUSE, "fatal: message too large for control/databytes");
		while (done < (size_t)r) {
			w = pwrite(memfd, buf + done, (size_t)r - done, (off_t)(RESERVE + total - (unsigned long long)r + done));
			if (w == -1 && errno == EINTR)
				continue;
			if (w == -1)
				die_sys(errno == ENOMEM || errno == ENOSPC ? DS_NOMEM : DS_READ, "fatal: unable to hold the message");
			done += (size_t)w;
		}
	}
	return (size_t)total;
}

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

/* Waits for the envelope to start on fd 1: a caller that abandons a
 * message (postern-smtpd at RSET, a message too big, a client gone)
 * closes the message and the envelope unwritten, and then nothing is
 * signed, or logged as signed, for mail that was never sent.  The alarm
 * bounds the wait.  A socket at its end reads 0 bytes; a pipe at its end
 * polls as a hang-up without input. */
static void envelope_coming(void)
{
	struct pollfd p = { 1, POLLIN, 0 };
	char c;
	ssize_t r;
	int n;

	do
		n = poll(&p, 1, -1);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		die_sys(DS_READ, "fatal: unable to wait for the envelope");
	if (!(p.revents & POLLIN))
		_exit(DS_READ);
	do
		r = recv(1, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	while (r == -1 && errno == EINTR);
	if (r == 0)
		_exit(DS_READ);
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

/* postern-queue, reading the memfd from start on. */
static _Noreturn void queue(int memfd, off_t start)
{
	struct str path = STR_INIT;
	char *argv[2] = { (char *)"postern-queue", 0 };
	char *envp[2] = { 0, 0 };
	char *const *e;

	alarm(0);
	if (signal(SIGALRM, SIG_DFL) == SIG_ERR)
		die_sys(DS_BUG, "fatal: unable to restore SIGALRM");
	if (lseek(memfd, start, SEEK_SET) == -1 || dup2(memfd, 0) == -1)
		die_sys(DS_BUG, "fatal: unable to hand the message on");
	close(memfd);
	if (!home_path(&path, "bin/postern-queue"))
		ds_nomem();
	for (e = environ; *e; e++)
		if (!strncmp(*e, "POSTERN_HOME=", 13))
			envp[0] = *e;
	log_flush();
	execve(path.s, argv, envp);
	die_sys(DS_BUG, "fatal: unable to run ", path.s);
}

int main(int argc, char **argv)
{
	unsigned long long databytes = 0, deadline = DEADLINE;
	struct str sig = STR_INIT;
	sigset_t alrm;
	size_t len;
	char *msg = 0;
	int memfd, opt;

	progname = "postern-dkimsign";
	while ((opt = getopt(argc, argv, "vd:f:t:")) != -1) {
		if (opt == 'v')
			verbose = 1;
		else if (opt == 't') {
			/* postern-send's bounces: the scheduler waits for us */
			if (!scan_ulong_all(optarg, strlen(optarg), &deadline) || deadline == 0 || deadline > DEADLINE)
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
	/* the caller's signal mask survives its exec of us */
	sigemptyset(&alrm);
	sigaddset(&alrm, SIGALRM);
	if (signal(SIGALRM, on_alarm) == SIG_ERR || sigprocmask(SIG_UNBLOCK, &alrm, 0) == -1)
		die_sys(DS_BUG, "fatal: unable to set up SIGALRM");
	alarm((unsigned)deadline);
	if (control_num("databytes", &databytes, 0) == -1)
		die_sys(DS_CONFIG, "fatal: unable to read control/databytes");
	/* postern-queue streams to disk whatever size it is given; we hold
	 * the message in memory, so without databytes a bound of our own */
	if (databytes == 0 || databytes > HELD_MAX)
		databytes = HELD_MAX;
	policy_load();

	if ((memfd = memfd_create("postern-dkimsign", MFD_CLOEXEC)) == -1)
		die_sys(DS_NOMEM, "fatal: unable to make room for the message");
	len = message_in(memfd, databytes);
	if (len && (msg = mmap(0, len, PROT_READ, MAP_PRIVATE, memfd, RESERVE)) == MAP_FAILED)
		die_sys(DS_NOMEM, "fatal: unable to map the message");
	envelope_coming();
	if (len)
		sign(msg, len, &sig);
	else
		unsigned_log("empty", 0);
	if (msg && munmap(msg, len) == -1)
		die_sys(DS_BUG, "fatal: unable to unmap the message");
	if (sig.len > RESERVE)
		die(DS_BUG, "fatal: internal bug: the signature fields outgrew their room");
	if (sig.len && pwrite(memfd, sig.s, sig.len, (off_t)(RESERVE - sig.len)) != (ssize_t)sig.len)
		die_sys(DS_NOMEM, "fatal: unable to write the signature fields");
	queue(memfd, (off_t)(RESERVE - sig.len));
}
