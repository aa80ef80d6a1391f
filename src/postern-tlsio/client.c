/* Client mode (postern-tlsio -c POLICY NAME [RECORD...]): the TLS client
 * side of an outbound connection, for postern-remote.  The same suites as
 * the server offers, both key types; NAME goes out as SNI and, with
 * policy v, must be the certificate's, whose chain must lead to an
 * authority of control/tlscafile; with policy e any certificate is taken
 * (anyx509.c); with policy t any certificate is taken too, and the
 * chain is judged as v would judge it, the verdict only reported
 * (testx509.c); with policy d the chain must match one of the TLSA
 * records (danex509.c).
 * No session resumption (nothing is kept between engines), no client
 * certificate, and no renegotiation a server could ask for. */
#include "tlsio.h"
#include "die.h"

static br_ssl_client_context cc;
static br_x509_minimal_context xc; /* policy v */
static struct anyx509 any;         /* policy e */
static struct danex509 dane;       /* policy d */
static struct testx509 test;       /* policy t */

br_ssl_engine_context *client_setup(int policy, const char *name, char *const *recs, size_t nrecs)
{
	uint16_t ids[8];
	size_t n;

	br_ssl_client_zero(&cc);
	n = policy_suites(0, ids, sizeof ids / sizeof ids[0]);
	engine_setup(&cc.eng, ids, n);
	/* the ServerKeyExchange is signed with RSA or ECDSA */
	br_ssl_client_set_default_rsapub(&cc);
	br_ssl_engine_set_default_rsavrfy(&cc.eng);
	br_ssl_engine_set_default_ecdsa(&cc.eng);
	br_ssl_engine_set_all_flags(&cc.eng, BR_OPT_NO_RENEGOTIATION);
	if (policy == 'v') {
		const br_x509_trust_anchor *ta;
		size_t nta;
		if (anchors_load(&ta, &nta, 1) == -1)
			return 0;
		/* RSA and ECDSA signatures on certificates, SHA-1 to SHA-512;
		 * the dates against the system's clock */
		br_x509_minimal_init_full(&xc, ta, nta);
		br_ssl_engine_set_x509(&cc.eng, &xc.vtable);
	} else if (policy == 't') {
		const br_x509_trust_anchor *ta = 0;
		size_t nta = 0;
		/* a CA file that cannot be used is logged, and makes every
		 * chain "not trusted": under t it must not stop the handshake,
		 * which is as e's whatever the verdict */
		int ok = anchors_load(&ta, &nta, 0) == 0;
		testx509_init(&test, ok ? ta : 0, ok ? nta : 0, ok);
		br_ssl_engine_set_x509(&cc.eng, &test.vtable);
	} else if (policy == 'd') {
		/* main.c checked them: a record refused here is a bug */
		if (danex509_init(&dane, name, recs, nrecs) == -1)
			die(111, "fatal: unusable TLSA record");
		br_ssl_engine_set_x509(&cc.eng, &dane.vtable);
	} else {
		anyx509_init(&any);
		br_ssl_engine_set_x509(&cc.eng, &any.vtable);
	}
	if (!br_ssl_client_reset(&cc, name, 0))
		die(111, "fatal: unable to set up the TLS engine");
	return &cc.eng;
}

/* The anchors are needed until the chain is checked, which the handshake
 * has done. */
void client_done(void)
{
	anchors_free();
}

/* asked only after a handshake, which one of the two let through */
const char *client_dane(void)
{
	return dane.matched == 't' ? "ta" : "ee";
}

/* asked only after a handshake under policy t */
const char *client_test_why(void)
{
	return testx509_why(&test);
}
