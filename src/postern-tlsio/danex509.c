/* Client mode's policy d (DANE, RFC 7672): the server's chain is taken
 * when it matches one of the TLSA records postern-remote found for it.
 * BearSSL hands an X.509 engine the chain a piece at a time and asks for
 * the verdict at its end; a DANE-TA record may match any certificate
 * after the first, and those below it are then checked against it, so
 * the chain is kept (up to limits no real chain comes near: a longer one
 * fails, it is not cut short) and looked at at its end.
 *
 * DANE-EE (usage 3): the first certificate, or its SubjectPublicKeyInfo,
 * has the record's digest.  Its key is taken, and neither its name nor
 * its dates are looked at (RFC 7672 3.1.1: the record is the trust).
 * DANE-TA (usage 2): certificate k (k >= 1) has the digest.  It becomes
 * the one trust anchor of BearSSL's minimal engine, which checks
 * certificates 0 to k-1 as it does for policy v: signatures, dates, and
 * the server's name (3.1.2).  An anchor the server does not send matches
 * nothing here: postern has no way to use a bare key of a TLSA record.
 * Every record is tried; the first that verifies wins. */
#include <string.h>
#include "fmt.h"
#include "tlsio.h"
#include "tlsa.h"

const char *danex509_why;

static unsigned char chain[DANE_CHAIN_MAX];
/* DANE-TA: the anchor's subject DN, a piece of a certificate */
static unsigned char ta_dn[DANE_CERT_MAX];
static size_t ta_dn_len;

/* The first reason a chain did not verify is the one logged. */
static void note(int err)
{
	const char *name = x509_error_name(err);
	if (!danex509_why)
		danex509_why = name ? name : "certificate not trusted";
}

/* As much DER as finding the key takes: the element at der[*pos], which
 * must end by end: its tag in *tag, its content's length in *len, and
 * *pos moved to its content.  0, or -1 when it is not there whole or not
 * DER: a tag number of more than one byte (none of the elements walked
 * has one), an indefinite length, a length of more than 4 bytes. */
static int der_head(const unsigned char *der, size_t end, size_t *pos, unsigned char *tag, size_t *len)
{
	size_t p = *pos, l, k;

	if (p >= end || end - p < 2)
		return -1;
	*tag = der[p++];
	if ((*tag & 0x1f) == 0x1f)
		return -1;
	l = der[p++];
	if (l & 0x80) {
		k = l & 0x7f;
		if (k == 0 || k > 4 || k > end - p)
			return -1;
		for (l = 0; k; k--)
			l = l << 8 | der[p++];
	}
	if (l > end - p)
		return -1;
	*pos = p;
	*len = l;
	return 0;
}

/* The SubjectPublicKeyInfo of the certificate der (n bytes), its tag
 * and length included (selector 1 hashes that): 0 with *spki and *spki_len
 * set, or -1.  RFC 5280 4.1: Certificate is a SEQUENCE whose first
 * element is tbsCertificate, a SEQUENCE of an optional [0] version, then
 * serialNumber, signature, issuer, validity, subject, and the key. */
static int spki_of(const unsigned char *der, size_t n, const unsigned char **spki, size_t *spki_len)
{
	static const unsigned char before[] = { 0x02, 0x30, 0x30, 0x30, 0x30 };
	size_t pos = 0, end, len, start, i;
	unsigned char tag;

	if (der_head(der, n, &pos, &tag, &len) == -1 || tag != 0x30)
		return -1;
	end = pos + len;
	if (der_head(der, end, &pos, &tag, &len) == -1 || tag != 0x30)
		return -1;
	end = pos + len;
	if (pos < end && der[pos] == 0xa0) {
		if (der_head(der, end, &pos, &tag, &len) == -1)
			return -1;
		pos += len;
	}
	for (i = 0; i < sizeof before; i++) {
		if (der_head(der, end, &pos, &tag, &len) == -1 || tag != before[i])
			return -1;
		pos += len;
	}
	start = pos;
	if (der_head(der, end, &pos, &tag, &len) == -1 || tag != 0x30)
		return -1;
	*spki = der + start;
	*spki_len = pos + len - start;
	return 0;
}

/* 1 when what the record selects of certificate i has its digest. */
static int matches(const struct danex509 *d, size_t i, const struct dane_record *rec)
{
	const unsigned char *p = chain + d->at[i];
	size_t n = d->len[i];
	unsigned char out[64];

	/* a certificate whose key cannot be found has no digest to match */
	if (rec->selector == 1 && spki_of(p, n, &p, &n) == -1)
		return 0;
	if (rec->mtype == 1) {
		br_sha256_context c;
		br_sha256_init(&c);
		br_sha256_update(&c, p, n);
		br_sha256_out(&c, out);
	} else {
		br_sha512_context c;
		br_sha512_init(&c);
		br_sha512_update(&c, p, n);
		br_sha512_out(&c, out);
	}
	return memcmp(out, rec->data, rec->len) == 0;
}

/* DANE-EE: 1 when the first certificate matches and has a key BearSSL
 * can use. */
static int match_ee(struct danex509 *d, const struct dane_record *rec)
{
	int err;

	if (!matches(d, 0, rec))
		return 0;
	br_x509_decoder_init(&d->dc, 0, 0);
	br_x509_decoder_push(&d->dc, chain + d->at[0], d->len[0]);
	if (br_x509_decoder_get_pkey(&d->dc)) {
		d->matched = 'e';
		return 1;
	}
	err = br_x509_decoder_last_error(&d->dc);
	note(err ? err : BR_ERR_X509_TRUNCATED);
	return 0;
}

/* The decoder hands the subject DN over in pieces. */
static void append_dn(void *overflow, const void *b, size_t n)
{
	if (n > sizeof ta_dn - ta_dn_len) {
		*(int *)overflow = 1;
		return;
	}
	memcpy(ta_dn + ta_dn_len, b, n);
	ta_dn_len += n;
}

/* Certificate k as the one trust anchor, as anchors.c makes those of the
 * CA file, but a CA whatever its basicConstraints say: the record says
 * so.  0, or a BearSSL error. */
static int make_anchor(struct danex509 *d, size_t k)
{
	const br_x509_pkey *pk;
	int overflow = 0, err;

	ta_dn_len = 0;
	br_x509_decoder_init(&d->tdc, append_dn, &overflow);
	br_x509_decoder_push(&d->tdc, chain + d->at[k], d->len[k]);
	pk = br_x509_decoder_get_pkey(&d->tdc);
	if (!pk) {
		err = br_x509_decoder_last_error(&d->tdc);
		return err ? err : BR_ERR_X509_TRUNCATED;
	}
	if (overflow)
		return BR_ERR_X509_LIMIT_EXCEEDED;
	d->ta.dn.data = ta_dn;
	d->ta.dn.len = ta_dn_len;
	d->ta.flags = BR_X509_TA_CA;
	d->ta.pkey = *pk; /* points into tdc, left alone until the chain is checked */
	return 0;
}

/* Certificates 0 to k-1 through BearSSL's minimal engine, with
 * certificate k the anchor: 0, or its error. */
static unsigned verify_below(struct danex509 *d, size_t k)
{
	const br_x509_class **x = &d->xc.vtable;
	size_t i;

	br_x509_minimal_init_full(&d->xc, &d->ta, 1);
	(*x)->start_chain(x, d->name);
	for (i = 0; i < k; i++) {
		(*x)->start_cert(x, (uint32_t)d->len[i]);
		if (d->len[i]) /* append() is never given 0 bytes */
			(*x)->append(x, chain + d->at[i], d->len[i]);
		(*x)->end_cert(x);
	}
	return (*x)->end_chain(x);
}

/* DANE-TA: 1 when a certificate after the first matches and those below
 * it verify against it. */
static int match_ta(struct danex509 *d, const struct dane_record *rec)
{
	size_t k;

	for (k = 1; k < d->ncerts; k++) {
		int err;
		if (!matches(d, k, rec))
			continue;
		err = make_anchor(d, k);
		if (!err)
			err = (int)verify_below(d, k);
		if (!err) {
			d->matched = 't';
			return 1;
		}
		note(err);
	}
	return 0;
}

static void start_chain(const br_x509_class **ctx, const char *server_name)
{
	struct danex509 *d = (struct danex509 *)(void *)ctx;

	(void)server_name; /* the name client_setup gave BearSSL: d->name */
	d->ncerts = d->used = 0;
	d->err = 0;
	d->matched = 0;
	danex509_why = 0;
}

static void start_cert(const br_x509_class **ctx, uint32_t length)
{
	struct danex509 *d = (struct danex509 *)(void *)ctx;

	if (d->err)
		return;
	if (d->ncerts == DANE_CERTS_MAX || length > DANE_CERT_MAX || length > DANE_CHAIN_MAX - d->used) {
		d->err = BR_ERR_X509_LIMIT_EXCEEDED;
		return;
	}
	d->at[d->ncerts] = d->used;
	d->len[d->ncerts] = 0;
}

/* BearSSL gives no more than start_cert's length; the bounds are checked
 * all the same, for they are what keeps chain[] whole. */
static void append(const br_x509_class **ctx, const unsigned char *buf, size_t len)
{
	struct danex509 *d = (struct danex509 *)(void *)ctx;
	size_t i = d->ncerts;

	if (d->err)
		return;
	if (i >= DANE_CERTS_MAX || len > DANE_CERT_MAX - d->len[i] || len > DANE_CHAIN_MAX - d->used) {
		d->err = BR_ERR_X509_LIMIT_EXCEEDED;
		return;
	}
	memcpy(chain + d->used, buf, len);
	d->used += len;
	d->len[i] += len;
}

static void end_cert(const br_x509_class **ctx)
{
	struct danex509 *d = (struct danex509 *)(void *)ctx;

	if (!d->err)
		d->ncerts++;
}

static unsigned end_chain(const br_x509_class **ctx)
{
	struct danex509 *d = (struct danex509 *)(void *)ctx;
	size_t r;

	if (d->err)
		return d->err;
	if (d->ncerts == 0)
		return BR_ERR_X509_EMPTY_CHAIN;
	for (r = 0; r < d->nrecs; r++) {
		const struct dane_record *rec = &d->recs[r];
		if (rec->usage == 3 ? match_ee(d, rec) : match_ta(d, rec))
			return 0;
	}
	if (!danex509_why)
		danex509_why = "certificate matches no TLSA record";
	return BR_ERR_X509_NOT_TRUSTED;
}

/* DANE-EE: the key is fit for what the handshake does with it, whatever
 * the certificate's key usage says (nothing but the record counts);
 * DANE-TA: what the minimal engine found. */
static const br_x509_pkey *get_pkey(const br_x509_class *const *ctx, unsigned *usages)
{
	struct danex509 *d = (struct danex509 *)(void *)ctx;

	if (d->matched == 't')
		return d->xc.vtable->get_pkey(&d->xc.vtable, usages);
	if (d->matched != 'e')
		return 0;
	if (usages)
		*usages = BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN;
	return br_x509_decoder_get_pkey(&d->dc);
}

static const br_x509_class danex509_class = {
	sizeof(struct danex509), start_chain, start_cert, append, end_cert, end_chain, get_pkey
};

int danex509_init(struct danex509 *d, const char *name, char *const *recs, size_t nrecs)
{
	size_t i;

	memset(d, 0, sizeof *d);
	d->vtable = &danex509_class;
	d->name = name;
	if (nrecs == 0 || nrecs > TLSA_RECORDS_MAX)
		return -1;
	for (i = 0; i < nrecs; i++) {
		struct dane_record *r = &d->recs[i];
		const char *t = recs[i];
		size_t n = strnlen(t, TLSA_TEXT_MAX + 1);

		/* the digest fits data: 32 or 64 bytes, tlsa_text_ok says */
		if (!tlsa_text_ok(t, n) || !scan_hex(t + 3, n - 3, r->data))
			return -1;
		r->usage = (unsigned char)(t[0] - '0');
		r->selector = (unsigned char)(t[1] - '0');
		r->mtype = (unsigned char)(t[2] - '0');
		r->len = (n - 3) / 2;
	}
	d->nrecs = nrecs;
	return 0;
}
