/* postern-tlsio: the TLS server side of one connection, for the application
 * that postern-tlsd started it for (UCSPI-TLS; doc/tls.md).
 *
 * usage: postern-tlsio    (started by postern-tlsd, never by hand)
 *
 * Descriptors: 0 plaintext from the application, 1 plaintext to it, 3 and
 * 4 the network (read, write), 5 the control socket.  It waits for the
 * application's y or Y on the control socket, reading nothing from the
 * network before; takes the certificate chain from postern-keys; makes the
 * handshake, in which postern-keys signs; with Y reports SSL_PROTOCOL,
 * SSL_CIPHER and SSL_TLS_SNI_SERVERNAME on the control socket; then moves
 * plaintext and records until either side ends.  It runs as postern-tls
 * and holds no private key.  postern-tlsio(8). */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>
#include "tlsio.h"
#include "die.h"
#include "io.h"
#include "log.h"
#include "rand.h"
#include "str.h"

#define COMMAND_WAIT_MS 60000  /* the application sends y right after its 220 */
#define LIFETIME_S (24 * 3600) /* no session lasts a day */

static struct keyholder keys;
static struct policy pol;
static br_ssl_server_context sc;
static unsigned char iobuf[BR_SSL_BUFSIZE_BIDI];
static int want_report;

/* The application's command: 'y', 'Y', or 0 when it closed the socket
 * (it never wanted TLS: not an error). */
static int read_command(void)
{
	struct pollfd p = { FD_CTL, POLLIN, 0 };
	char c;
	ssize_t r;
	int n;

	do
		n = poll(&p, 1, COMMAND_WAIT_MS);
	while (n == -1 && errno == EINTR);
	if (n == 0)
		return 0;
	if (n == -1)
		die_sys(111, "fatal: poll failed");
	r = read_retry(FD_CTL, &c, 1);
	if (r <= 0)
		return 0;
	if (c != 'y' && c != 'Y')
		die(100, "fatal: unknown command on the control socket");
	return c;
}

static int setup_engine(void)
{
	static const struct {
		int id;
		const br_hash_class *impl;
	} hashes[] = {
		{ br_sha1_ID, &br_sha1_vtable }, { br_sha224_ID, &br_sha224_vtable },
		{ br_sha256_ID, &br_sha256_vtable }, { br_sha384_ID, &br_sha384_vtable },
		{ br_sha512_ID, &br_sha512_vtable },
	};
	uint16_t ids[8];
	unsigned char seed[32];
	size_t i, n;

	br_ssl_server_zero(&sc);
	br_ssl_engine_set_versions(&sc.eng, BR_TLS12, BR_TLS12);
	n = policy_suites(keys.type, ids, sizeof ids / sizeof ids[0]);
	br_ssl_engine_set_suites(&sc.eng, ids, n);
	for (i = 0; i < sizeof hashes / sizeof hashes[0]; i++)
		br_ssl_engine_set_hash(&sc.eng, hashes[i].id, hashes[i].impl);
	br_ssl_engine_set_prf_sha256(&sc.eng, &br_tls12_sha256_prf);
	br_ssl_engine_set_prf_sha384(&sc.eng, &br_tls12_sha384_prf);
	br_ssl_engine_set_default_ec(&sc.eng);
	br_ssl_engine_set_default_aes_gcm(&sc.eng);
	br_ssl_engine_set_default_chapol(&sc.eng);
	/* our order of suites; no renegotiation (a second handshake in the
	 * middle of a session would ask postern-keys for a second signature) */
	br_ssl_engine_set_all_flags(&sc.eng, BR_OPT_ENFORCE_SERVER_PREFERENCES | BR_OPT_NO_RENEGOTIATION);
	policy_init(&pol, &keys);
	br_ssl_server_set_policy(&sc, &pol.vtable);
	br_ssl_engine_set_buffer(&sc.eng, iobuf, sizeof iobuf, 1);
	if (!rand_bytes(seed, sizeof seed))
		die_sys(111, "fatal: no randomness from the kernel");
	br_ssl_engine_inject_entropy(&sc.eng, seed, sizeof seed);
	memset(seed, 0, sizeof seed);
	return br_ssl_server_reset(&sc) ? 0 : -1;
}

/* Called once, when the handshake is done: the log line, and for Y the
 * UCSPI-TLS report. */
static void report(br_ssl_engine_context *eng)
{
	br_ssl_session_parameters sp;
	const char *cipher, *sni = br_ssl_engine_get_server_name(eng);
	struct logline l = { STR_INIT };

	keys_close(&keys);
	br_ssl_engine_get_session_parameters(eng, &sp);
	cipher = policy_suite_name(sp.cipher_suite);
	log_begin(&l, "established");
	log_kv(&l, "protocol", "TLSv1.2");
	log_kv(&l, "cipher", cipher);
	if (sni && *sni)
		log_kv(&l, "sni", sni);
	log_end(&l);
	if (want_report) {
		struct str s = STR_INIT;
		if (!str_cats(&s, "SSL_PROTOCOL=TLSv1.2") || !str_catz(&s) || !str_cats(&s, "SSL_CIPHER=") ||
		    !str_cats(&s, cipher) || !str_catz(&s) ||
		    (sni && *sni && (!str_cats(&s, "SSL_TLS_SNI_SERVERNAME=") || !str_cats(&s, sni) || !str_catz(&s))) ||
		    !str_catz(&s))
			die_nomem();
		/* a gone application is seen on its pipes right after */
		(void)write_all(FD_CTL, s.s, s.len);
		str_free(&s);
	}
	(void)close(FD_CTL);
}

int main(void)
{
	int cmd;

	progname = "postern-tlsio";
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		die_sys(111, "fatal: unable to make myself undumpable");
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		die_sys(111, "fatal: unable to ignore SIGPIPE");
	if (geteuid() == 0)
		die(100, "fatal: refusing to run as root: postern-tlsd runs me as postern-tls");
	alarm(LIFETIME_S);
	cmd = read_command();
	if (!cmd)
		return 0;
	want_report = cmd == 'Y';
	if (keys_open(&keys) == -1)
		die(111, "fatal: no certificate: is postern-keys running?");
	if (setup_engine() == -1)
		die(111, "fatal: unable to set up the TLS engine");
	return pump(&sc.eng, report) == 0 ? 0 : 1;
}
