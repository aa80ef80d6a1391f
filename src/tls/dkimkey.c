#include <string.h>
#include <sys/stat.h>
#include "dkimkey.h"
#include "die.h"
#include "dkim.h"
#include "fmt.h"
#include "pemfile.h"

/* SEQUENCE { INTEGER 0, SEQUENCE { OID 1.3.101.112 }, OCTET STRING {
 * OCTET STRING (32 bytes) } }: RFC 8410's PKCS#8 form, the seed last */
const unsigned char dkimkey_ed25519_head[DKIM_ED25519_DER_HEAD] = {
	0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
};

/* room for the text of an RSA-4096 key up front, and for its DER: growing
 * would leave copies of the key behind in freed memory */
#define TEXT_ROOM 16384
#define DER_ROOM 4096

struct loading {
	struct dkimkey *k;
	const char *path;
	br_skey_decoder_context *dc;
	int found; /* 0 none yet; 'e' Ed25519, the seed in k; 'd' given to dc */
	br_rsa_public_key pub; /* 'd': the public half the DER gives, in n and e */
	unsigned char n[DKIM_RSA_BYTES_MAX], e[4];
};

/* The DER element at *p (before end) of tag: its value and length, *p
 * past it; -1 when it is not one (lengths up to 65,535 suffice here). */
static int der_take(const unsigned char **p, const unsigned char *end, unsigned char tag,
                    const unsigned char **v, size_t *n)
{
	size_t len, k;

	if (end - *p < 2 || **p != tag)
		return -1;
	len = (*p)[1];
	*p += 2;
	if (len & 0x80) {
		k = len & 0x7f;
		if (k == 0 || k > 2 || (size_t)(end - *p) < k)
			return -1;
		for (len = 0; k; k--)
			len = len << 8 | *(*p)++;
	}
	if ((size_t)(end - *p) < len)
		return -1;
	*v = *p;
	*n = len;
	*p += len;
	return 0;
}

/* Into the element at *p (before *end) of tag: *p and *end become its
 * value's bounds.  0, or -1 when it is not one. */
static int der_enter(const unsigned char **p, const unsigned char **end, unsigned char tag)
{
	const unsigned char *v;
	size_t n;

	if (der_take(p, *end, tag, &v, &n) == -1)
		return -1;
	*p = v;
	*end = v + n;
	return 0;
}

/* Past the element at *p (before end) of tag: 0, or -1 when it is not
 * one. */
static int der_skip(const unsigned char **p, const unsigned char *end, unsigned char tag)
{
	const unsigned char *v;
	size_t n;

	return der_take(p, end, tag, &v, &n);
}

/* an INTEGER's big-endian bytes without leading zeros into out (of max):
 * -1 when it is not one, or is too long */
static int der_uint(const unsigned char **p, const unsigned char *end, unsigned char *out, size_t max, size_t *n)
{
	const unsigned char *v;

	if (der_take(p, end, 0x02, &v, n) == -1)
		return -1;
	while (*n && *v == 0) {
		v++;
		(*n)--;
	}
	if (*n == 0 || *n > max)
		return -1;
	memcpy(out, v, *n);
	return 0;
}

/* The modulus and the public exponent, which BearSSL's decoder reads
 * past: RSAPrivateKey (PKCS#1) is SEQUENCE { version, n, e, ... }, and
 * PKCS#8 puts one in an OCTET STRING after { version, algorithm }.
 * BearSSL checks the rest of the structure.  0, or -1. */
static int rsa_public(struct loading *l, const unsigned char *der, size_t len)
{
	const unsigned char *p = der, *end = der + len;

	if (der_enter(&p, &end, 0x30) == -1 || der_skip(&p, end, 0x02) == -1)
		return -1;
	/* PKCS#8: the algorithm, then the RSAPrivateKey in an OCTET STRING */
	if (p < end && *p == 0x30 &&
	    (der_skip(&p, end, 0x30) == -1 || der_enter(&p, &end, 0x04) == -1 || der_enter(&p, &end, 0x30) == -1 ||
	     der_skip(&p, end, 0x02) == -1))
		return -1;
	if (der_uint(&p, end, l->n, sizeof l->n, &l->pub.nlen) == -1 ||
	    der_uint(&p, end, l->e, sizeof l->e, &l->pub.elen) == -1)
		return -1;
	l->pub.n = l->n;
	l->pub.e = l->e;
	return 0;
}

static const char *take_key(void *ctx, const char *name, const struct str *der)
{
	struct loading *l = ctx;

	if (strcmp(name, "ENCRYPTED PRIVATE KEY") == 0)
		die(111, "fatal: ", l->path, " holds an encrypted key: postern-dkim starts unattended, "
		    "so the key is kept unencrypted and the file's mode protects it");
	if (strcmp(name, "PRIVATE KEY") != 0 && strcmp(name, "RSA PRIVATE KEY") != 0)
		die(111, "fatal: ", l->path, " holds a PEM object that is not an RSA or Ed25519 private key: ", name);
	if (l->found)
		die(111, "fatal: ", l->path, " holds more than one private key");
	if (strcmp(name, "PRIVATE KEY") == 0 && der->len == DKIM_ED25519_DER_HEAD + DKIM_ED25519_SEED &&
	    memcmp(der->s, dkimkey_ed25519_head, DKIM_ED25519_DER_HEAD) == 0) {
		memcpy(l->k->seed, der->s + DKIM_ED25519_DER_HEAD, DKIM_ED25519_SEED);
		l->found = 'e';
		return 0;
	}
	/* anything else is BearSSL's to read: RSA, in either form; an
	 * Ed25519 key written any other way is refused by it as unknown */
	br_skey_decoder_init(l->dc);
	br_skey_decoder_push(l->dc, der->s, der->len);
	if (rsa_public(l, (const unsigned char *)der->s, der->len) == -1)
		l->pub.n = 0;
	l->found = 'd';
	return 0;
}

static _Noreturn void die_num(const char *path, const char *what, unsigned long long n, const char *after)
{
	char num[FMT_ULONG];

	num[fmt_ulong(num, n)] = 0;
	die(111, "fatal: ", path, what, num, after);
}

/* A signature the public half verifies: the exponents and the CRT
 * coefficient are the modulus' (a key whose parts do not fit together
 * would sign what no verifier accepts, and every signature it made would
 * be a faulty one, refused by dkimkey_rsa_sign). */
static int rsa_works(const struct dkimkey *k)
{
	static const unsigned char hash[32] = "postern-dkim: is this a key?";
	unsigned char sig[DKIM_RSA_BYTES_MAX];

	return dkimkey_rsa_sign(k, hash, sig) == 0;
}

void dkimkey_load(struct dkimkey *k, const char *path)
{
	struct str text = STR_INIT, der = STR_INIT;
	br_skey_decoder_context dc;
	struct loading l = { .k = k, .path = path, .dc = &dc };
	const br_rsa_private_key *rsa;
	struct stat st;
	int err;

	dkimkey_wipe(k);
	if (!str_ready(&text, TEXT_ROOM) || !str_ready(&der, DER_ROOM))
		die_nomem();
	pem_read(path, &text, &st);
	/* The key must be postern-dkim's alone: anyone else who can read it
	 * can sign as the domain. */
	if (st.st_mode & 077)
		die(111, "fatal: ", path, " may be read or written by its group or others: "
		    "chmod 600 it (and consider the key exposed)");
	/* the traditional encrypted form has headers in the object, which
	 * BearSSL's decoder would only call bad base64 */
	if (memmem(text.s, text.len, "Proc-Type:", 10) || memmem(text.s, text.len, "DEK-Info:", 9))
		die(111, "fatal: ", path, " holds an encrypted key: postern-dkim starts unattended, "
		    "so the key is kept unencrypted and the file's mode protects it");
	pem_decode(path, &text, &der, take_key, &l);
	str_wipe(&text);
	str_wipe(&der);
	if (!l.found)
		die(111, "fatal: ", path, " holds no private key in PEM");
	if (l.found == 'e') {
		k->alg = 'e';
		return;
	}
	err = br_skey_decoder_last_error(&dc);
	if (err != 0) {
		char num[FMT_ULONG];
		num[fmt_ulong(num, (unsigned long long)err)] = 0;
		explicit_bzero(&dc, sizeof dc);
		die(111, "fatal: ", path, ": the key cannot be used: ",
		    err == BR_ERR_X509_UNSUPPORTED ? "it is neither RSA nor Ed25519 (in PKCS#8 as `openssl genpkey "
		    "-algorithm ed25519` writes it)" : "it is not valid DER",
		    " (BearSSL's error ", num, ")");
	}
	rsa = br_skey_decoder_get_rsa(&dc);
	if (!rsa) {
		explicit_bzero(&dc, sizeof dc);
		die(111, "fatal: ", path, ": the key is an EC key: DKIM signs with RSA or Ed25519");
	}
	if (rsa->n_bitlen < DKIM_RSA_BITS_MIN || rsa->n_bitlen > DKIM_RSA_BITS_MAX) {
		uint32_t bits = rsa->n_bitlen;
		explicit_bzero(&dc, sizeof dc);
		die_num(path, ": the RSA key has ", bits, " bits: 2048 to 4096 are taken");
	}
	if (!l.pub.n) {
		explicit_bzero(&dc, sizeof dc);
		die(111, "fatal: ", path, ": the RSA key's public exponent is over 32 bits, or its modulus is not as long as "
		    "it says");
	}
	err = dkimkey_set_rsa(k, rsa, &l.pub);
	explicit_bzero(&dc, sizeof dc);
	if (err == -1)
		die(111, "fatal: ", path, ": the RSA key's primes are too far apart in size");
	if (!rsa_works(k)) {
		dkimkey_wipe(k);
		die(111, "fatal: ", path, ": the RSA key's parts do not fit together (its test signature does not verify)");
	}
	k->alg = 'r';
}

/* n bytes at p without their leading zeros, onto k's buffer at *at */
static int put(struct dkimkey *k, size_t *at, unsigned char **to, size_t *tolen, const unsigned char *p, size_t n)
{
	while (n && *p == 0) {
		p++;
		n--;
	}
	if (n > sizeof k->buf - *at)
		return -1;
	memcpy(k->buf + *at, p, n);
	*to = k->buf + *at;
	*tolen = n;
	*at += n;
	return 0;
}

int dkimkey_set_rsa(struct dkimkey *k, const br_rsa_private_key *sk, const br_rsa_public_key *pk)
{
	const unsigned char *n = pk->n;
	size_t at = 0, nlen = pk->nlen, i;

	while (nlen && *n == 0) {
		n++;
		nlen--;
	}
	if (sk->n_bitlen < DKIM_RSA_BITS_MIN || sk->n_bitlen > DKIM_RSA_BITS_MAX || nlen != (sk->n_bitlen + 7) / 8 ||
	    pk->elen == 0 || pk->elen > 4)
		return -1;
	memcpy(k->n, n, nlen);
	k->nlen = nlen;
	k->e = 0;
	for (i = 0; i < pk->elen; i++)
		k->e = k->e << 8 | pk->e[i];
	k->rsa.n_bitlen = sk->n_bitlen;
	if (put(k, &at, &k->rsa.p, &k->rsa.plen, sk->p, sk->plen) == -1 ||
	    put(k, &at, &k->rsa.q, &k->rsa.qlen, sk->q, sk->qlen) == -1 ||
	    put(k, &at, &k->rsa.dp, &k->rsa.dplen, sk->dp, sk->dplen) == -1 ||
	    put(k, &at, &k->rsa.dq, &k->rsa.dqlen, sk->dq, sk->dqlen) == -1 ||
	    put(k, &at, &k->rsa.iq, &k->rsa.iqlen, sk->iq, sk->iqlen) == -1) {
		dkimkey_wipe(k);
		return -1;
	}
	k->alg = 'r';
	return 0;
}

void dkimkey_wipe(struct dkimkey *k)
{
	explicit_bzero(k, sizeof *k);
}

size_t dkimkey_e_bytes(const struct dkimkey *k, unsigned char e[4])
{
	size_t elen = 0;
	int i;

	for (i = 3; i >= 0; i--)
		if (k->e >> (8 * i) || elen)
			e[elen++] = (unsigned char)(k->e >> (8 * i));
	return elen;
}

int dkimkey_rsa_sign(const struct dkimkey *k, const unsigned char hash[32], unsigned char *sig)
{
	unsigned char back[32], e[4];
	br_rsa_public_key pk = { (unsigned char *)k->n, k->nlen, e, 0 };

	pk.elen = dkimkey_e_bytes(k, e);
	if (!br_rsa_pkcs1_sign_get_default()(BR_HASH_OID_SHA256, hash, sizeof back, &k->rsa, sig)) {
		explicit_bzero(sig, k->nlen);
		return -1;
	}
	/* about 0.05 ms beside the 2.7 of the signature (RSA-2048) */
	if (br_rsa_pkcs1_vrfy_get_default()(sig, k->nlen, BR_HASH_OID_SHA256, sizeof back, &pk, back) &&
	    memcmp(back, hash, sizeof back) == 0)
		return 0;
	explicit_bzero(sig, k->nlen);
	return -2;
}

int dkimkey_name_ok(const char *s, size_t n, int selector)
{
	size_t i;

	/* the labels and the lengths are any DKIM name's (src/lib/dkim.h) */
	if (!dkim_name_ok(s, n))
		return 0;
	/* lower case alone: the name is a file's, and one name has one file */
	for (i = 0; i < n; i++)
		if ((s[i] >= 'A' && s[i] <= 'Z') || (s[i] == '_' && !selector))
			return 0;
	/* a domain: two labels at least (no label is empty) */
	return selector || memchr(s, '.', n) != 0;
}

int dkimkey_dns_name_ok(size_t selector_len, size_t domain_len)
{
	/* each at most DKIM_NAME_MAX: no overflow */
	return selector_len <= DKIM_NAME_MAX && domain_len <= DKIM_NAME_MAX &&
	       selector_len + sizeof DKIM_KEY_LABEL - 1 + domain_len <= DKIM_NAME_MAX;
}
