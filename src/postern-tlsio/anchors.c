/* The trusted authorities of client mode's policy v: every certificate of
 * the PEM file control/tlscafile names (default Debian's bundle) becomes a
 * BearSSL trust anchor: its subject DN and its public key, copied out of
 * the certificate, and the CA flag.  It is read again by every engine that
 * verifies, after the application's y: an engine lives for one session,
 * and the file is read in about 12 ms (doc/tls.md, "Measured"), so
 * a changed bundle needs no restart.  Any problem with it fails the
 * handshake with a line that names the file: a verifying session never
 * goes on with fewer authorities than the administrator gave it.  Policy
 * t, which only reports what v would say, reads the same file and goes on
 * without it (a warning line; its verdict says no anchors). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tlsio.h"
#include "control.h"
#include "die.h"
#include "file.h"
#include "log.h"
#include "str.h"
#include "pem.h"

#define CAFILE_DEFAULT "/etc/ssl/certs/ca-certificates.crt"
#define CAFILE_MAX (4 * 1024 * 1024)
#define ANCHORS_MAX 1000

static br_x509_trust_anchor anchors[ANCHORS_MAX];
static size_t nanchors;
/* What the anchors point into: their DNs and keys.  Each is a piece of a
 * certificate, and a certificate's DER is shorter than its PEM, so an
 * arena as large as the file is never outgrown and never moved. */
static unsigned char *arena;
static size_t arena_len, arena_cap;

static void *arena_add(const void *b, size_t n)
{
	unsigned char *p;
	if (n > arena_cap - arena_len)
		return 0;
	p = arena + arena_len;
	memcpy(p, b, n);
	arena_len += n;
	return p;
}

/* The decoder hands the subject DN over in pieces. */
static void append_dn(void *overflow, const void *b, size_t n)
{
	if (!arena_add(b, n))
		*(int *)overflow = 1;
}

/* One certificate's DER: 1 an anchor more, 0 not one BearSSL can use (a
 * key of another type, an encoding it does not take): skipped, as a
 * browser skips what it cannot read. */
static int add_anchor(const unsigned char *der, size_t len)
{
	br_x509_decoder_context dc;
	br_x509_trust_anchor *ta = &anchors[nanchors];
	const br_x509_pkey *pk;
	size_t mark = arena_len;
	int overflow = 0;

	ta->dn.data = arena + arena_len;
	br_x509_decoder_init(&dc, append_dn, &overflow);
	br_x509_decoder_push(&dc, der, len);
	pk = br_x509_decoder_get_pkey(&dc);
	if (!pk || overflow)
		goto skip;
	ta->dn.len = arena_len - mark;
	ta->flags = br_x509_decoder_isCA(&dc) ? BR_X509_TA_CA : 0;
	ta->pkey.key_type = pk->key_type;
	if (pk->key_type == BR_KEYTYPE_RSA) {
		ta->pkey.key.rsa.n = arena_add(pk->key.rsa.n, pk->key.rsa.nlen);
		ta->pkey.key.rsa.nlen = pk->key.rsa.nlen;
		ta->pkey.key.rsa.e = arena_add(pk->key.rsa.e, pk->key.rsa.elen);
		ta->pkey.key.rsa.elen = pk->key.rsa.elen;
		if (!ta->pkey.key.rsa.n || !ta->pkey.key.rsa.e)
			goto skip;
	} else if (pk->key_type == BR_KEYTYPE_EC) {
		ta->pkey.key.ec.curve = pk->key.ec.curve;
		ta->pkey.key.ec.q = arena_add(pk->key.ec.q, pk->key.ec.qlen);
		ta->pkey.key.ec.qlen = pk->key.ec.qlen;
		if (!ta->pkey.key.ec.q)
			goto skip;
	} else {
		goto skip;
	}
	nanchors++;
	return 1;
skip:
	arena_len = mark;
	memset(ta, 0, sizeof *ta);
	return 0;
}

/* One PEM object of the file: a CERTIFICATE becomes an anchor.  OpenSSL's
 * TRUSTED CERTIFICATE carries trust settings BearSSL cannot read: not taken. */
static const char *each_object(void *certs, const char *name, const struct str *der)
{
	if (strcmp(name, "CERTIFICATE") != 0 && strcmp(name, "X509 CERTIFICATE") != 0)
		return 0;
	if (++*(size_t *)certs > ANCHORS_MAX)
		return "more than 1000 certificates";
	(void)add_anchor((const unsigned char *)der->s, der->len);
	return 0;
}

/* Every CERTIFICATE object of text: NULL, or why the file is refused. */
static const char *add_pem(const struct str *text, struct str *why)
{
	struct str der = STR_INIT;
	size_t certs = 0;
	int r = pem_walk(text, &der, each_object, &certs, why);

	str_free(&der);
	if (r == -1)
		return why->s;
	if (!nanchors)
		return certs ? "no certificate BearSSL can use" : "no certificate";
	return 0;
}

/* Policy t goes on without anchors (every chain is then "not trusted"),
 * so for it the line is a warning, not a failed handshake. */
static int soft;

static int refuse(const char *why, const char *path, int err)
{
	struct logline l = { STR_INIT };
	log_begin(&l, soft ? "warning" : "failed");
	if (!soft)
		log_kv(&l, "stage", "handshake");
	log_kv(&l, "why", why);
	log_kv(&l, "cafile", path);
	if (err)
		log_kv(&l, "sys", strerror(err));
	log_end(&l);
	anchors_free();
	return -1;
}

int anchors_load(const br_x509_trust_anchor **out, size_t *n, int fatal)
{
	struct str path = STR_INIT, text = STR_INIT, pemwhy = STR_INIT;
	struct stat st;
	const char *why;
	int fd, r;

	soft = !fatal;
	*out = anchors;
	*n = 0;
	r = control_line("tlscafile", &path);
	if (r == -1)
		return refuse("unable to read control/tlscafile", "control/tlscafile", errno);
	if (r == 0 && !str_copys(&path, CAFILE_DEFAULT))
		die_nomem();
	/* a relative path would be relative to the engine's working
	 * directory, which no one chose for it */
	if (path.s[0] != '/') {
		r = refuse("control/tlscafile does not name an absolute path", path.s, 0);
		str_free(&path);
		return r;
	}
	/* O_NONBLOCK: a FIFO put there must not hang the engine in open() */
	fd = openat(AT_FDCWD, path.s, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd == -1 || fstat(fd, &st) == -1) {
		r = refuse("unable to open the CA file", path.s, errno);
	} else if (!S_ISREG(st.st_mode)) {
		r = refuse("the CA file is not a regular file", path.s, 0);
	} else if (read_fd(fd, &text, CAFILE_MAX) == -1) {
		r = errno == EFBIG ? refuse("the CA file is over 4 MB", path.s, 0)
		                   : refuse("unable to read the CA file", path.s, errno);
	} else if (!(arena = malloc(text.len ? text.len : 1))) {
		die_nomem();
	} else {
		arena_cap = text.len;
		why = add_pem(&text, &pemwhy);
		r = why ? refuse(why, path.s, 0) : 0;
	}
	if (fd != -1)
		(void)close(fd);
	str_free(&text);
	str_free(&path);
	str_free(&pemwhy);
	*out = anchors;
	*n = nanchors;
	return r;
}

void anchors_free(void)
{
	free(arena);
	arena = 0;
	arena_len = arena_cap = nanchors = 0;
}
