/* The DNS record of a DKIM key (RFC 6376 3.6.1, RFC 8463 4): the TXT
 * record at SELECTOR._domainkey.DOMAIN, "v=DKIM1; k=rsa; p=BASE64".  A
 * TXT string holds at most 255 characters: a longer p= is split, and
 * verifiers join the strings again.  The RSA key's SubjectPublicKeyInfo
 * is written here by hand: it is six fixed bytes and two integers. */
#include <string.h>
#include <sodium.h>
#include "keymaker.h"
#include "base64.h"
#include "die.h"
#include "io.h"

#define TXT_STRING_MAX 255

/* DER: tag, length (short or long form), value */
static void tlv(struct str *out, unsigned char tag, const char *v, size_t n)
{
	char head[4];
	size_t h = 0;

	head[h++] = (char)tag;
	if (n < 0x80) {
		head[h++] = (char)n;
	} else if (n < 0x100) {
		head[h++] = (char)0x81;
		head[h++] = (char)n;
	} else {
		head[h++] = (char)0x82;
		head[h++] = (char)(n >> 8);
		head[h++] = (char)n;
	}
	if (!str_catb(out, head, h) || !str_catb(out, v, n))
		die_nomem();
}

/* a positive INTEGER of n big-endian bytes (no leading zero): a zero
 * byte first when the top bit is set, so that it does not read as
 * negative */
static void integer(struct str *out, const unsigned char *b, size_t n)
{
	struct str v = STR_INIT;

	if ((n && (b[0] & 0x80) && !str_catc(&v, 0)) || !str_catb(&v, (const char *)b, n))
		die_nomem();
	tlv(out, 0x02, v.s, v.len);
	str_free(&v);
}

/* SEQUENCE { SEQUENCE { OID rsaEncryption, NULL }, BIT STRING {
 * RSAPublicKey: SEQUENCE { INTEGER n, INTEGER e } } } */
static void rsa_spki(struct str *out, const struct dkimkey *k)
{
	static const char algid[] = "\x30\x0d\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x01\x05\x00";
	unsigned char e[4];
	struct str ints = STR_INIT, rsapub = STR_INIT, bits = STR_INIT, spki = STR_INIT;
	size_t elen = dkimkey_e_bytes(k, e);

	integer(&ints, k->n, k->nlen);
	integer(&ints, e, elen);
	tlv(&rsapub, 0x30, ints.s, ints.len);
	/* the BIT STRING's first byte: no unused bits */
	if (!str_catc(&bits, 0) || !str_cat(&bits, &rsapub) || !str_copyb(&spki, algid, sizeof algid - 1))
		die_nomem();
	tlv(&spki, 0x03, bits.s, bits.len);
	tlv(out, 0x30, spki.s, spki.len);
	str_free(&ints);
	str_free(&rsapub);
	str_free(&bits);
	str_free(&spki);
}

void record_print(const char *domain, const char *selector, const struct dkimkey *k)
{
	struct str pub = STR_INIT, out = STR_INIT;
	char b64[1024];
	size_t len, at, chunk;

	if (k->alg == 'r') {
		rsa_spki(&pub, k);
	} else {
		unsigned char pk[crypto_sign_ed25519_PUBLICKEYBYTES], sk[crypto_sign_ed25519_SECRETKEYBYTES];
		if (crypto_sign_ed25519_seed_keypair(pk, sk, k->seed) != 0)
			die(111, "fatal: unable to work out the Ed25519 key's public half");
		sodium_memzero(sk, sizeof sk);
		if (!str_copyb(&pub, (const char *)pk, sizeof pk))
			die_nomem();
	}
	len = b64_encode((const unsigned char *)pub.s, pub.len, b64, sizeof b64);
	if (len == 0)
		die(111, "fatal: the public key is too long to print");
	if (!str_cats(&out, selector) || !str_cats(&out, "._domainkey.") || !str_cats(&out, domain) ||
	    !str_cats(&out, ". IN TXT ( \"v=DKIM1; k=") || !str_cats(&out, k->alg == 'r' ? "rsa" : "ed25519") ||
	    !str_cats(&out, "; \"\n\t\"p="))
		die_nomem();
	/* the first string holds "p=" too */
	for (at = 0, chunk = TXT_STRING_MAX - 2; at < len; at += chunk, chunk = TXT_STRING_MAX) {
		if (chunk > len - at)
			chunk = len - at;
		if ((at && !str_cats(&out, "\n\t\"")) || !str_catb(&out, b64 + at, chunk) || !str_catc(&out, '"'))
			die_nomem();
	}
	if (!str_cats(&out, " )\n"))
		die_nomem();
	if (write_all(1, out.s, out.len) == -1)
		die_sys(111, "fatal: unable to write the record");
	str_free(&pub);
	str_free(&out);
}
