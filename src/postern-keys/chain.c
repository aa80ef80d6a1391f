#include <string.h>
#include "chain.h"
#include "die.h"
#include "key.h"
#include "../tls/pemfile.h"

struct loading {
	struct chain *c;
	const char *path;
};

static const char *add_cert(void *ctx, const char *name, const struct str *der)
{
	struct loading *l = ctx;
	struct str *rec = &l->c->rec;
	char head[3];

	/* Anything else in the file is a mistake to point out, not to skip:
	 * a private key pasted into cert.pem would be readable by whoever
	 * may read the certificate. */
	if (strcmp(name, "CERTIFICATE") != 0 && strcmp(name, "X509 CERTIFICATE") != 0)
		die(111, "fatal: ", l->path, " holds a PEM object that is not a certificate: ", name);
	if (der->len == 0)
		die(111, "fatal: ", l->path, " holds an empty certificate");
	if (l->c->certs == CHAIN_CERTS_MAX)
		die(111, "fatal: ", l->path, ": more than 16 certificates (postern-tlsio's limit: doc/tls.md)");
	if (der->len > CHAIN_RECORD_MAX - 3 || rec->len > CHAIN_RECORD_MAX - 3 - der->len)
		die(111, "fatal: ", l->path, ": the chain is over 65,536 bytes (doc/tls.md)");
	head[0] = (char)(der->len >> 16);
	head[1] = (char)(der->len >> 8);
	head[2] = (char)der->len;
	if (!str_catb(rec, head, 3) || !str_catb(rec, der->s, der->len))
		die_nomem();
	l->c->certs++;
	return 0;
}

void chain_load(struct chain *c, const char *path)
{
	struct str text = STR_INIT, der = STR_INIT;
	struct loading l = { c, path };
	struct stat st;
	int err;

	pem_read(path, &text, &st);
	if (!str_copyb(&c->rec, "C\0\0", 3))
		die_nomem();
	c->certs = 0;
	pem_decode(path, &text, &der, add_cert, &l);
	str_free(&text);
	str_free(&der);
	if (c->certs == 0)
		die(111, "fatal: ", path, " holds no certificate in PEM");

	br_x509_decoder_init(&c->first, 0, 0);
	{
		const unsigned char *p = (const unsigned char *)c->rec.s + 3;
		size_t n = (size_t)p[0] << 16 | (size_t)p[1] << 8 | p[2];
		br_x509_decoder_push(&c->first, p + 3, n);
	}
	err = br_x509_decoder_last_error(&c->first);
	if (err != 0)
		key_unusable(path, "the first certificate", err);
}

const br_x509_pkey *chain_pkey(struct chain *c)
{
	return br_x509_decoder_get_pkey(&c->first);
}

void chain_set_key(struct chain *c, char type, unsigned char curve)
{
	c->rec.s[1] = type;
	c->rec.s[2] = (char)curve;
}
