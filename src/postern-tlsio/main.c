/* postern-tlsio: the TLS side of one connection, for the application that
 * postern-tlsd started it for (UCSPI-TLS; doc/tls.md): the server for
 * postern-smtpd's STARTTLS, or with -c the client for postern-remote's.
 *
 * usage: postern-tlsio [-c e|v|t NAME | -c d NAME TLSA...]
 *        (started by postern-tlsd, never by hand)
 *
 * Descriptors: 0 plaintext from the application, 1 plaintext to it, 3 and
 * 4 the network (read, write), 5 the control socket.  It waits for the
 * application's y or Y on the control socket, reading nothing from the
 * network before.  As the server it takes the certificate chain from
 * postern-keys and makes the handshake, in which postern-keys signs; as
 * the client (-c) it makes the handshake with the server NAME, taking any
 * certificate (e), only one for NAME from an authority of
 * control/tlscafile (v), any but judged as v would judge it, the verdict
 * only reported (t, MTA-STS testing), or only a chain that matches one of
 * the 1 to 8 TLSA records (d, DANE: RFC 7672).  With Y it reports
 * SSL_PROTOCOL, SSL_CIPHER and SSL_TLS_SNI_SERVERNAME (server) or
 * SSL_PEER_VERIFIED, and under t SSL_PEER_VERIFY_ERROR (client) on the
 * control socket; then it moves plaintext and records
 * until either side ends.  It runs as postern-tls and holds no private
 * key.  postern-tlsio(8). */
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
#include "servername.h"
#include "str.h"
#include "tlsa.h"

#define COMMAND_WAIT_MS 60000  /* the application sends y right after its 220 */
#define LIFETIME_S (24 * 3600) /* no session lasts a day */
#define USAGE "postern-tlsio [-c e|v|t NAME | -c d NAME TLSA...]"

static struct keyholder keys = { .fd = -1 };
static struct policy pol;
static br_ssl_server_context sc;
static int want_report;
static int client;       /* client mode's policy, 'e', 'v', 't' or 'd'; 0 server mode */
static const char *name; /* client mode: the server's name */
static char **tlsa;      /* policy d: the TLSA records, ntlsa of them */
static size_t ntlsa;

/* 0 for server mode, else the policy; the name and the records are
 * postern-tlsd's, checked again here because the name goes out as SNI
 * and the records decide what is trusted. */
static int client_args(int argc, char **argv)
{
	int i;

	if (argc == 1)
		return 0;
	if (argc < 4 || strcmp(argv[1], "-c") || !server_name_ok(argv[3], strnlen(argv[3], SERVER_NAME_MAX + 1)))
		die_usage(USAGE);
	if (!strcmp(argv[2], "e") || !strcmp(argv[2], "v") || !strcmp(argv[2], "t")) {
		if (argc != 4)
			die_usage(USAGE);
	} else if (!strcmp(argv[2], "d")) {
		if (argc < 5 || argc > 4 + TLSA_RECORDS_MAX)
			die_usage(USAGE);
		for (i = 4; i < argc; i++)
			if (!tlsa_text_ok(argv[i], strnlen(argv[i], TLSA_TEXT_MAX + 1)))
				die_usage(USAGE);
		tlsa = argv + 4;
		ntlsa = (size_t)(argc - 4);
	} else {
		die_usage(USAGE);
	}
	name = argv[3];
	return argv[2][0];
}

/* The application's command: 'y', 'Y', or 0 when it closed the socket
 * (it never wanted TLS: not an error). */
static int read_command(void)
{
	struct pollfd p = { FD_CTL, POLLIN, 0 };
	char c;
	ssize_t r;
	int n;

	/* A client application asks for its engine before it sends STARTTLS
	 * and may wait its whole reply timeout for the 220: it has no 60 s
	 * limit, only the lifetime's (and its control socket's EOF). */
	do
		n = poll(&p, 1, client ? -1 : COMMAND_WAIT_MS);
	while (n == -1 && errno == EINTR);
	if (n == 0) {
		warn("warning: no y or Y on the control socket within 60 s: not starting TLS");
		return 0;
	}
	if (n == -1)
		die_sys(111, "fatal: poll failed");
	r = read_retry(FD_CTL, &c, 1);
	if (r <= 0)
		return 0;
	if (c != 'y' && c != 'Y')
		die(100, "fatal: unknown command on the control socket");
	return c;
}

static br_ssl_engine_context *server_setup(void)
{
	uint16_t ids[8];
	size_t n;

	/* every suite: policy.c's choose() takes those of the key's type,
	 * once it has the chain from postern-keys */
	br_ssl_server_zero(&sc);
	n = policy_suites(0, ids, sizeof ids / sizeof ids[0]);
	engine_setup(&sc.eng, ids, n);
	/* our order of suites; no renegotiation (a second handshake in the
	 * middle of a session would ask postern-keys for a second signature) */
	br_ssl_engine_set_all_flags(&sc.eng, BR_OPT_ENFORCE_SERVER_PREFERENCES | BR_OPT_NO_RENEGOTIATION);
	policy_init(&pol, &keys);
	br_ssl_server_set_policy(&sc, &pol.vtable);
	if (!br_ssl_server_reset(&sc))
		die(111, "fatal: unable to set up the TLS engine");
	return &sc.eng;
}

/* Called once, when the handshake is done: the log line, and for Y the
 * UCSPI-TLS report.  The server names the client's SNI; the client says
 * whether the certificate was verified, which policies v and d do (and
 * with d, which kind of TLSA record it matched), and t reports (with why
 * not, when not: the chain was taken all the same). */
static void report(br_ssl_engine_context *eng)
{
	br_ssl_session_parameters sp;
	const char *cipher, *sni = br_ssl_engine_get_server_name(eng);
	/* policy t: the verdict the handshake did not act on */
	const char *why = client == 't' ? client_test_why() : 0;
	/* policy d: a chain that matched no record failed the handshake */
	const char *verified = client == 'v' || client == 'd' || (client == 't' && !why) ? "1" : "0";
	struct logline l = { STR_INIT };

	if (client)
		client_done();
	else
		keys_close(&keys);
	br_ssl_engine_get_session_parameters(eng, &sp);
	cipher = policy_suite_name(sp.cipher_suite);
	log_begin(&l, "established");
	if (client)
		log_kv(&l, "mode", "client");
	log_kv(&l, "protocol", "TLSv1.2");
	log_kv(&l, "cipher", cipher);
	if (client) {
		log_kv(&l, "verified", *verified == '1' ? "yes" : "no");
		if (why)
			log_kv(&l, "why", why);
		if (client == 'd')
			log_kv(&l, "dane", client_dane());
		log_kv(&l, "name", name);
	} else if (sni && *sni) {
		log_kv(&l, "sni", sni);
	}
	log_end(&l);
	if (want_report) {
		struct str s = STR_INIT;
		if (!str_cats(&s, "SSL_PROTOCOL=TLSv1.2") || !str_catz(&s) || !str_cats(&s, "SSL_CIPHER=") ||
		    !str_cats(&s, cipher) || !str_catz(&s) ||
		    (client && (!str_cats(&s, "SSL_PEER_VERIFIED=") || !str_cats(&s, verified) || !str_catz(&s))) ||
		    (why && (!str_cats(&s, "SSL_PEER_VERIFY_ERROR=") || !str_cats(&s, why) || !str_catz(&s))) ||
		    (!client && sni && *sni &&
		     (!str_cats(&s, "SSL_TLS_SNI_SERVERNAME=") || !str_cats(&s, sni) || !str_catz(&s))) ||
		    !str_catz(&s))
			die_nomem();
		/* a gone application is seen on its pipes right after */
		(void)write_all(FD_CTL, s.s, s.len);
		str_free(&s);
	}
	(void)close(FD_CTL);
}

int main(int argc, char **argv)
{
	br_ssl_engine_context *eng;
	int cmd;

	progname = "postern-tlsio";
	client = client_args(argc, argv);
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
	eng = client ? client_setup(client, name, tlsa, ntlsa) : server_setup();
	if (!eng)
		return 1; /* no trust anchors: logged as a failed handshake */
	return pump(eng, report) == 0 ? 0 : 1;
}
