/* Client mode's policy e (encrypt): any certificate is taken.  The server's
 * key is read from the first certificate of its chain, for the ECDHE
 * signature the handshake checks; who signed it, whose name it bears and
 * when it expires are not looked at.  This is what lets postern-remote's
 * "may" and "encrypt" complete a handshake with the self-signed
 * certificates most MX hosts have (DESIGN.md section 4): against a passive
 * listener that is as good as any, against an active one no worse than
 * plaintext, and the report says SSL_PEER_VERIFIED=0. */
#include "tlsio.h"

static void start_chain(const br_x509_class **ctx, const char *server_name)
{
	struct anyx509 *a = (struct anyx509 *)(void *)ctx;
	(void)server_name;
	a->certs = 0;
}

static void start_cert(const br_x509_class **ctx, uint32_t length)
{
	struct anyx509 *a = (struct anyx509 *)(void *)ctx;
	(void)length;
	if (a->certs == 0)
		br_x509_decoder_init(&a->dc, 0, 0);
}

static void append(const br_x509_class **ctx, const unsigned char *buf, size_t len)
{
	struct anyx509 *a = (struct anyx509 *)(void *)ctx;
	if (a->certs == 0)
		br_x509_decoder_push(&a->dc, buf, len);
}

static void end_cert(const br_x509_class **ctx)
{
	struct anyx509 *a = (struct anyx509 *)(void *)ctx;
	a->certs++;
}

static unsigned end_chain(const br_x509_class **ctx)
{
	struct anyx509 *a = (struct anyx509 *)(void *)ctx;
	int err;

	if (a->certs == 0)
		return BR_ERR_X509_EMPTY_CHAIN;
	if (br_x509_decoder_get_pkey(&a->dc))
		return 0;
	err = br_x509_decoder_last_error(&a->dc);
	return err ? (unsigned)err : BR_ERR_X509_TRUNCATED;
}

static const br_x509_pkey *get_pkey(const br_x509_class *const *ctx, unsigned *usages)
{
	struct anyx509 *a = (struct anyx509 *)(void *)ctx;
	if (usages)
		*usages = BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN;
	return br_x509_decoder_get_pkey(&a->dc);
}

static const br_x509_class anyx509_class = {
	sizeof(struct anyx509), start_chain, start_cert, append, end_cert, end_chain, get_pkey
};

void anyx509_init(struct anyx509 *a)
{
	a->vtable = &anyx509_class;
	a->certs = 0;
}
