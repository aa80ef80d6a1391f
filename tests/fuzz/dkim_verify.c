/* libFuzzer target for DKIM verification's text (src/lib/dkimverify.c):
 * DKIM-Signature fields and key records come from strangers.  The first
 * byte chooses what the rest is read as, the next two give a split
 * point:
 *  0: a message whose fields are read as signatures: b= lies inside the
 *     field; a signature taken has d= and s= in lower case that DKIM can
 *     name, an h= with from, an i= under d=, a b= of 1 to 1024 bytes; its
 *     header data (both canonicalizations) has CRLF line ends only and no
 *     CRLF at its end; the canonical body is the same fed whole or in two
 *     pieces, its total at least its output, its output l= long at most,
 *     and, simple, CRLF line ends only, never empty, no empty line at the
 *     end;
 *  1: a key record: p= within DKIMV_KEY_BYTES, an Ed25519 key 32 bytes,
 *     and an RSA key's DER read as the next case;
 *  2: DER: a key's modulus and exponent lie inside it, without leading
 *     zero bytes;
 *  3: a line naming an authserv-id, then a message: its fields checked as
 *     ours or not, the signatures in it reported in an
 *     Authentication-Results field that has no CR or NUL, lines of at most
 *     998 characters, each after the first beginning with a tab, and ends
 *     with LF.
 * Built and run by tests/fuzz.sh. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "dkimverify.h"
#include "authres.h"

#define NF 64

static struct dkim_field f[NF];

static void collect(void *ctx, const char *b, size_t n)
{
	if (!str_catb(ctx, b, n))
		abort();
}

static int lower_name(const char *s)
{
	size_t i, n = strlen(s);

	if (!dkim_name_ok(s, n))
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] >= 'A' && s[i] <= 'Z')
			return 0;
	return 1;
}

/* every LF just after a CR */
static void crlf_only(const struct str *s)
{
	size_t i;

	for (i = 0; i < s->len; i++)
		if (s->s[i] == '\n' && (i == 0 || s->s[i - 1] != '\r'))
			abort();
}

static unsigned long long body(const struct dkimv_sig *s, const char *m, size_t n, size_t cut, struct str *out)
{
	struct dkimv_body b;

	out->len = 0;
	dkimv_body_init(&b, s, collect, out);
	dkimv_body_put(&b, m, cut);
	dkimv_body_put(&b, m + cut, n - cut);
	return dkimv_body_end(&b);
}

static void check_body(const struct dkimv_sig *s, const char *m, size_t n, size_t cut)
{
	struct str whole = STR_INIT, parts = STR_INIT;
	unsigned long long t = body(s, m, n, n, &whole);

	if (body(s, m, n, cut, &parts) != t || whole.len != parts.len ||
	    (whole.len && memcmp(whole.s, parts.s, whole.len) != 0))
		abort();
	if (t < whole.len || (s->has_l ? whole.len != (t < s->l ? t : s->l) : whole.len != t))
		abort();
	if (s->bcanon == DKIMV_SIMPLE && !s->has_l) {
		crlf_only(&whole);
		if (whole.len < 2 || memcmp(whole.s + whole.len - 2, "\r\n", 2) != 0 ||
		    (whole.len >= 4 && memcmp(whole.s + whole.len - 4, "\r\n\r\n", 4) == 0))
			abort();
	}
	str_free(&whole);
	str_free(&parts);
}

static void check_sig(size_t k, size_t nf, const char *m, size_t n, size_t at, size_t cut)
{
	struct dkimv_sig s;
	struct str h = STR_INIT;
	const char *why = dkimv_sig_parse(&f[k], &s);
	size_t i;

	if (s.b_start > s.b_end || s.b_end > f[k].rawlen)
		abort();
	if (!why) {
		const char *at_sign;
		if (!lower_name(s.d) || !lower_name(s.s) || s.nh == 0 || s.blen == 0 || s.blen > DKIMV_SIG_BYTES ||
		    strlen(s.bprefix) == 0 || strlen(s.bprefix) > DKIMV_BPREFIX_MAX ||
		    s.bshow != (strlen(s.bprefix) < 8 ? strlen(s.bprefix) : 8) || s.b_start <= f[k].namelen)
			abort();
		for (i = 0; i < s.h.len && strcmp(s.h.s + i, "from") != 0; i += strlen(s.h.s + i) + 1)
			;
		if (i == s.h.len)
			abort();
		if (s.i[0]) {
			size_t dn, sn = strlen(s.d);
			if (!(at_sign = strrchr(s.i, '@')))
				abort();
			dn = strlen(at_sign + 1);
			if (dn < sn || (dn > sn && at_sign[dn - sn] != '.'))
				abort();
		}
		for (i = 0; i < 2; i++) {
			s.hcanon = i ? DKIMV_RELAXED : DKIMV_SIMPLE;
			h.len = 0;
			if (dkimv_header_data(f, nf, k, &s, &h) || h.len < f[k].namelen)
				abort();
			crlf_only(&h);
			if (h.len >= 2 && memcmp(h.s + h.len - 2, "\r\n", 2) == 0)
				abort();
		}
		/* as it asks, then the other body canonicalization without l= */
		check_body(&s, m + at, n - at, cut % (n - at + 1));
		s.bcanon = s.bcanon == DKIMV_SIMPLE ? DKIMV_RELAXED : DKIMV_SIMPLE;
		s.has_l = 0;
		check_body(&s, m + at, n - at, cut % (n - at + 1));
	}
	dkimv_sig_free(&s);
	str_free(&h);
}

static void check_der(const unsigned char *p, size_t n)
{
	const unsigned char *mod, *exp;
	size_t modlen, explen;

	if (dkimv_rsa_key(p, n, &mod, &modlen, &exp, &explen) == 0 &&
	    (modlen == 0 || explen == 0 || mod < p || mod + modlen > p + n || exp < p || exp + explen > p + n ||
	     mod[0] == 0 || exp[0] == 0))
		abort();
}

static void check_key(const char *t, size_t n)
{
	struct dkimv_key k;
	struct dkimv_sig s;

	if (dkimv_key_parse(t, n, &k) != 0)
		return;
	if (k.plen > DKIMV_KEY_BYTES || (k.alg == DKIMV_ED25519_SHA256 && k.plen != 0 && k.plen != 32))
		abort();
	if (k.alg == DKIMV_RSA_SHA256)
		check_der(k.p, k.plen);
	memset(&s, 0, sizeof s);
	memcpy(s.d, "example.com", 12);
	memcpy(s.i, "a@b.example.com", 16);
	s.alg = DKIMV_RSA_SHA256;
	if (dkimv_key_fits(&k, &s) == 0 && (k.plen == 0 || k.alg != s.alg || k.strict))
		abort();
}

static void check_ar(const char *id, size_t nf)
{
	static const char *const results[] = { "pass", "fail", "neutral", "temperror", "permerror", "none" };
	struct dkimv_sig s[4];
	struct dkimv_result r[4];
	struct str out = STR_INIT;
	size_t i, ns = 0, line = 0;

	for (i = 0; i < nf; i++)
		(void)authres_is_ours(f[i].raw, f[i].rawlen, id);
	for (i = 0; i < nf && ns < 4; i++) {
		const char *why = dkimv_sig_parse(&f[i], &s[ns]);
		r[ns].result = results[(i + f[i].rawlen) % 6];
		r[ns].reason = why;
		r[ns].comment = i & 1 ? "test mode" : 0;
		r[ns].sig = why && (!strcmp(why, "malformed signature") || !strcmp(why, "unsupported version")) ? 0 : &s[ns];
		ns++;
	}
	if (dkimv_ar_field(&out, id, r, ns) || out.len == 0 || out.s[out.len - 1] != '\n')
		abort();
	for (i = 0; i < out.len; i++) {
		if (out.s[i] == '\r' || out.s[i] == 0)
			abort();
		if (out.s[i] == '\n') {
			if (i + 1 < out.len && out.s[i + 1] != '\t')
				abort();
			line = 0;
		} else if (++line > 998) {
			abort();
		}
	}
	for (i = 0; i < ns; i++)
		dkimv_sig_free(&s[i]);
	str_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *m = (const char *)data + 3;
	size_t n, nf, at, i, cut;

	if (size < 3)
		return 0;
	n = size - 3;
	cut = (size_t)data[1] << 8 | data[2];
	switch (data[0] & 3) {
	case 0:
		if (dkim_fields(m, n, f, NF, &nf, &at) == 0)
			for (i = 0; i < nf && i < 8; i++)
				check_sig(i, nf, m, n, at, cut);
		break;
	case 1:
		check_key(m, n);
		break;
	case 2:
		check_der((const unsigned char *)m, n);
		break;
	case 3: {
		/* the id: the first line, at most 64 bytes, no NUL in it */
		const char *nl = memchr(m, '\n', n < 65 ? n : 65);
		char id[65];
		size_t idn = nl ? (size_t)(nl - m) : 0;
		if (!nl || memchr(m, 0, idn) || memchr(m, '\r', idn))
			break;
		memcpy(id, m, idn);
		id[idn] = 0;
		if (dkim_fields(nl + 1, n - idn - 1, f, NF, &nf, &at) == 0)
			check_ar(id, nf);
		break;
	}
	}
	return 0;
}
