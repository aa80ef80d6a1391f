/* postern-tlsio's pieces share these declarations; main.c has the session,
 * doc/tls.md the byte formats. */
#ifndef POSTERN_TLSIO_H
#define POSTERN_TLSIO_H
#include <stddef.h>
#include <bearssl.h>
#include "tlsa.h"

/* The descriptors postern-tlsd sets up before the exec (doc/tls.md). */
#define FD_APP_IN 0   /* plaintext the application wants sent */
#define FD_APP_OUT 1  /* plaintext from the client, for the application */
#define FD_NET_IN 3
#define FD_NET_OUT 4
#define FD_CTL 5

#define CHAIN_MAX 16

/* keys.c: the connection to postern-keys. */
struct keyholder {
	int fd;
	int type;                 /* 'E' or 'R' */
	int curve;                /* BearSSL curve id, EC keys */
	unsigned char rec[65536]; /* the C record; the chain points into it */
	br_x509_certificate chain[CHAIN_MAX];
	size_t chain_len;
};
/* Connects and reads the chain: 0, or -1 after logging why. */
int keys_open(struct keyholder *);
/* Has the hash hv (hash id, hv_len bytes) signed into sig (cap bytes):
 * the signature's length, or 0 after logging why. */
size_t keys_sign(struct keyholder *, unsigned hash_id, const unsigned char *hv, size_t hv_len,
                 unsigned char *sig, size_t cap);
void keys_close(struct keyholder *);

/* policy.c: BearSSL's server policy, with the signature sent to postern-keys. */
struct policy {
	const br_ssl_server_policy_class *vtable;
	struct keyholder *keys;
};
void policy_init(struct policy *, struct keyholder *);
/* Set when the handshake failed because postern-keys could not be had:
 * BearSSL then reports only that the policy chose nothing. */
extern int policy_no_certificate;
/* The suites postern offers for this key type ('E', 'R'; 0 both), in
 * preference order. */
size_t policy_suites(int keytype, uint16_t *out, size_t cap);
/* OpenSSL's name for a suite, for SSL_CIPHER. */
const char *policy_suite_name(uint16_t suite);

/* setup.c: the settings the server and the client share, the record
 * buffer and the random seed included, on a freshly zeroed engine. */
void engine_setup(br_ssl_engine_context *, const uint16_t *suites, size_t n);

/* client.c: client mode, policy 'e', 'v', 't' or 'd', for the server NAME;
 * for 'd' the nrecs TLSA records recs (their text form, already checked
 * with tlsa_text_ok).  The engine, ready for the handshake, or 0 when
 * the trust anchors could not be had (logged). */
br_ssl_engine_context *client_setup(int policy, const char *name, char *const *recs, size_t nrecs);
/* After the handshake: what only the handshake needed is freed. */
void client_done(void);
/* After the handshake, policy 'd': "ee" or "ta", the kind of record
 * that the chain matched. */
const char *client_dane(void);
/* After the handshake, policy 't': 0 when the chain would have passed
 * policy v, else why it would not have. */
const char *client_test_why(void);

/* anchors.c: the authorities of control/tlscafile, for policies v and t.
 * 0, or -1 after logging why: as a failed handshake when fatal (v, whose
 * handshake fails then), as a warning when not (t, which goes on with
 * none). */
int anchors_load(const br_x509_trust_anchor **out, size_t *n, int fatal);
void anchors_free(void);

/* anyx509.c: policy e's X.509 "validator", which takes the key of the
 * first certificate and checks nothing else. */
struct anyx509 {
	const br_x509_class *vtable;
	br_x509_decoder_context dc; /* the first certificate's */
	unsigned certs;             /* certificates seen so far */
};
void anyx509_init(struct anyx509 *);

/* testx509.c: policy t's X.509 engine (MTA-STS testing, RFC 8461 5):
 * every certificate goes to anyx509, whose key the handshake uses, and
 * to BearSSL's minimal engine with the anchors of control/tlscafile and
 * the server's name, whose verdict is recorded and never fails the
 * handshake. */
struct testx509 {
	const br_x509_class *vtable;
	struct anyx509 any;
	br_x509_minimal_context xc;
	int verdict;    /* the minimal engine's: 0 verified, a BR_ERR_X509_*, -1 none yet */
	int anchors_ok; /* control/tlscafile gave anchors */
};
/* anchors_ok 0: the CA file could not be used (logged), ta is empty. */
void testx509_init(struct testx509 *, const br_x509_trust_anchor *ta, size_t nta, int anchors_ok);
/* After the handshake: 0 when the chain verified, else why not, in
 * words ("certificate not trusted", ...). */
const char *testx509_why(const struct testx509 *);

/* danex509.c: policy d's X.509 engine (RFC 7672).  It keeps the DER of
 * the chain's first DANE_CERTS_MAX certificates, and at its end matches
 * them against the TLSA records: DANE-EE (usage 3) the first certificate
 * alone, nothing else checked; DANE-TA (usage 2) any later one, which
 * then becomes the one trust anchor of a br_x509_minimal run over the
 * certificates before it, with the server's name. */
#define DANE_CERTS_MAX 10
#define DANE_CERT_MAX (64 * 1024)   /* one certificate's DER */
#define DANE_CHAIN_MAX (160 * 1024) /* the certificates kept, in all */
struct dane_record {
	unsigned char usage, selector, mtype; /* 2 or 3, 0 or 1, 1 or 2 */
	unsigned char data[64];               /* the digest */
	size_t len;                           /* 32 or 64 */
};
struct danex509 {
	const br_x509_class *vtable;
	const char *name; /* the server's, for DANE-TA's name check */
	struct dane_record recs[TLSA_RECORDS_MAX];
	size_t nrecs;
	/* the chain: certificate i is chain[at[i]], len[i] bytes */
	size_t at[DANE_CERTS_MAX], len[DANE_CERTS_MAX];
	size_t ncerts, used;
	unsigned err;                /* the chain went beyond the limits */
	int matched;                 /* 'e' DANE-EE, 't' DANE-TA, 0 not (yet) */
	br_x509_decoder_context dc;  /* DANE-EE: the first certificate's key */
	br_x509_decoder_context tdc; /* DANE-TA: the anchor's key */
	br_x509_trust_anchor ta;
	br_x509_minimal_context xc;  /* DANE-TA: the chain up to the anchor */
};
/* Takes the nrecs records (text form, checked with tlsa_text_ok): 0, or
 * -1 when one of them is not usable after all. */
int danex509_init(struct danex509 *, const char *name, char *const *recs, size_t nrecs);
/* Why the last chain was refused, for the failed line, when its error
 * (BR_ERR_X509_NOT_TRUSTED) says less: "certificate matches no TLSA
 * record", or why a DANE-TA match did not verify; 0 otherwise. */
extern const char *danex509_why;

/* x509err.c: a BearSSL X.509 error's name, or 0 if err is not one. */
const char *x509_error_name(int err);

/* pump.c: moves bytes between the network, the engine and the application
 * until the session ends.  report: called once when the handshake is done.
 * Returns 0 at a clean end, -1 after logging why it failed. */
int pump(br_ssl_engine_context *, void (*report)(br_ssl_engine_context *));
#endif
