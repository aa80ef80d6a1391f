/* Client mode's policy t (test): the handshake is made as under e, with
 * any certificate (anyx509.c gives the key), and the chain is judged all
 * the same as policy v would judge it: BearSSL's minimal engine, with the
 * authorities of control/tlscafile and the server's name.  Its verdict
 * is kept, not enforced.  This is what postern-remote asks for under an
 * MTA-STS policy in mode testing (RFC 8461 5): the mail goes as under
 * may, and the log says whether enforce would have taken the certificate.
 *
 * Both engines see every byte of the chain.  The minimal engine stops
 * looking at a chain once it has found a fault (it keeps the error, and
 * ignores the rest), so it is not asked for its verdict until end_chain,
 * which returns that first error, or BR_ERR_X509_NOT_TRUSTED when
 * nothing led to an anchor: whatever the chain, a verdict is recorded.
 * Its key is never used: a chain that verified has the same first
 * certificate, and so the same key, as anyx509 decoded. */
#include <string.h>
#include "fmt.h"
#include "tlsio.h"

static void start_chain(const br_x509_class **ctx, const char *server_name)
{
	struct testx509 *t = (struct testx509 *)(void *)ctx;

	t->verdict = -1;
	t->any.vtable->start_chain(&t->any.vtable, server_name);
	t->xc.vtable->start_chain(&t->xc.vtable, server_name);
}

static void start_cert(const br_x509_class **ctx, uint32_t length)
{
	struct testx509 *t = (struct testx509 *)(void *)ctx;

	t->any.vtable->start_cert(&t->any.vtable, length);
	t->xc.vtable->start_cert(&t->xc.vtable, length);
}

static void append(const br_x509_class **ctx, const unsigned char *buf, size_t len)
{
	struct testx509 *t = (struct testx509 *)(void *)ctx;

	t->any.vtable->append(&t->any.vtable, buf, len);
	t->xc.vtable->append(&t->xc.vtable, buf, len);
}

static void end_cert(const br_x509_class **ctx)
{
	struct testx509 *t = (struct testx509 *)(void *)ctx;

	t->any.vtable->end_cert(&t->any.vtable);
	t->xc.vtable->end_cert(&t->xc.vtable);
}

/* The minimal engine's verdict is recorded; anyx509's decides the
 * handshake, exactly as under e. */
static unsigned end_chain(const br_x509_class **ctx)
{
	struct testx509 *t = (struct testx509 *)(void *)ctx;

	t->verdict = (int)t->xc.vtable->end_chain(&t->xc.vtable);
	return t->any.vtable->end_chain(&t->any.vtable);
}

static const br_x509_pkey *get_pkey(const br_x509_class *const *ctx, unsigned *usages)
{
	const struct testx509 *t = (const struct testx509 *)(const void *)ctx;

	return t->any.vtable->get_pkey(&t->any.vtable, usages);
}

static const br_x509_class testx509_class = {
	sizeof(struct testx509), start_chain, start_cert, append, end_cert, end_chain, get_pkey
};

void testx509_init(struct testx509 *t, const br_x509_trust_anchor *ta, size_t nta, int anchors_ok)
{
	t->vtable = &testx509_class;
	t->verdict = -1;
	t->anchors_ok = anchors_ok;
	anyx509_init(&t->any);
	/* as policy v: RSA and ECDSA signatures, SHA-1 to SHA-512, the
	 * dates against the system's clock */
	br_x509_minimal_init_full(&t->xc, ta, nta);
}

const char *testx509_why(const struct testx509 *t)
{
	/* "certificate refused: BearSSL error " and at most 10 digits */
	static char generic[64];
	static const char head[] = "certificate refused: BearSSL error ";
	const char *name;

	if (t->verdict == 0)
		return 0;
	if (t->verdict == -1)
		return "certificate not looked at";
	/* a CA file that could not be used leaves no anchor: say so rather
	 * than blame the server's certificate */
	if (!t->anchors_ok && t->verdict == BR_ERR_X509_NOT_TRUSTED)
		return "no usable trust anchors in control/tlscafile";
	name = x509_error_name(t->verdict);
	if (name)
		return name;
	/* an error x509err.c has no name for: its number, for BearSSL's list */
	memcpy(generic, head, sizeof head - 1);
	generic[sizeof head - 1 + fmt_ulong(generic + sizeof head - 1, (unsigned)t->verdict)] = 0;
	return generic;
}
