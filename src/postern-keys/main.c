/* postern-keys: the TLS key holder (doc/tls.md, "The key holder";
 * postern-keys(8)).  It runs as postern-keys, the one user that can read
 * HOME/secret/tls/key.pem, and signs one hash per connection for the TLS
 * engines (postern-tlsio, as postern-tls), so that an engine broken into
 * from the network holds no private key: at worst it can have hashes
 * signed while it runs, as OpenSMTPD's crypto process allows its
 * network-facing processes.
 *
 * The set-up ritual, in order: the peer's uid, the certificate chain, the
 * key and the check that they belong together, the socket, readiness; then
 * the loop, until SIGTERM. */
#include <fcntl.h>
#include <pwd.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "chain.h"
#include "conf.h"
#include "die.h"
#include "fmt.h"
#include "home.h"
#include "io.h"
#include "key.h"
#include "log.h"
#include "selfpipe.h"
#include "serve.h"
#include "str.h"
#include "unixsock.h"

#define USAGE "postern-keys [-u UID] [-d FD]"

static struct chain chain;
static struct key key;

static unsigned long long number(const char *s, unsigned long long lo, unsigned long long hi, const char *what)
{
	unsigned long long v;

	if (!scan_ulong_all(s, strlen(s), &v) || v < lo || v > hi)
		die(100, "fatal: ", what, " is not a number in range: ", s);
	return v;
}

/* The engines run as postern-tls: theirs is the only uid served. */
static uid_t tls_uid(void)
{
	struct passwd *pw = getpwnam(conf_users[USER_TLS]);

	if (!pw)
		die(111, "fatal: no such user: ", conf_users[USER_TLS]);
	return pw->pw_uid;
}

static void path(struct str *out, const char *name)
{
	if (!home_path(out, name))
		die_nomem();
}

int main(int argc, char **argv)
{
	struct str certpath = STR_INIT, keypath = STR_INIT, sockpath = STR_INIT;
	struct serve_counts counts = { 0, 0, 0, 0, 0 };
	struct logline l = { STR_INIT };
	uid_t peer = 0;
	int have_peer = 0, notify = -1, opt, lfd, sigfd;

	progname = "postern-keys";
	while ((opt = getopt(argc, argv, "u:d:")) != -1) {
		switch (opt) {
		case 'u': peer = (uid_t)number(optarg, 0, 0xfffffffeULL, "-u"); have_peer = 1; break;
		case 'd': notify = (int)number(optarg, 3, 1023, "-d"); break;
		default: die_usage(USAGE);
		}
	}
	if (optind != argc)
		die_usage(USAGE);
	if (notify != -1 && fcntl(notify, F_SETFD, FD_CLOEXEC) == -1)
		die_sys(111, "fatal: notification fd is not open");
	if (!have_peer)
		peer = tls_uid();

	path(&certpath, "secret/tls/cert.pem");
	path(&keypath, "secret/tls/key.pem");
	path(&sockpath, "run/keys/socket");
	chain_load(&chain, certpath.s);
	key_load(&key, keypath.s);
	key_match(&key, chain_pkey(&chain), keypath.s, certpath.s);
	chain_set_key(&chain, key.ec ? 'E' : 'R', key.ec ? (unsigned char)key.ec->curve : 0);
	str_free(&certpath);
	str_free(&keypath);

	sigfd = selfpipe_init(0);
	if (sigfd == -1)
		die_sys(111, "fatal: unable to catch signals");
	lfd = unix_listen(sockpath.s, SOMAXCONN);
	if (lfd == -1)
		die_sys(111, "fatal: unable to listen on ", sockpath.s);
	str_free(&sockpath);
	log_begin(&l, "start");
	log_kv(&l, "keytype", key.ec ? "EC" : "RSA");
	if (key.ec)
		log_kv(&l, "curve", key_curve_name(key.ec->curve));
	log_kvu(&l, "bits", key_bits(&key));
	log_kvu(&l, "chain", chain.certs);
	log_kvu(&l, "bytes", chain.rec.len);
	log_kvu(&l, "peer", (unsigned long long)peer);
	log_end(&l);
	/* s6's readiness: the socket takes connections from now on.  After
	 * the start line, so that whoever waits for readiness finds the line
	 * that says what was loaded (t-keys.py read the log too early once) */
	if (notify != -1) {
		if (write_all(notify, "\n", 1) == -1)
			warn_sys("warning: unable to signal readiness");
		close(notify);
	}

	serve(lfd, sigfd, peer, &chain.rec, &key, &counts);

	log_begin(&l, "stop");
	log_kvu(&l, "signatures", counts.signatures);
	log_kvu(&l, "refused", counts.refused);
	log_kvu(&l, "errors", counts.errors);
	log_kvu(&l, "timeouts", counts.timeouts);
	log_kvu(&l, "full", counts.full);
	log_end(&l);
	return 0;
}
