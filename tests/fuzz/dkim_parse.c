/* libFuzzer target for DKIM's reading of a message (src/lib/dkim.c and
 * dkimcanon.c): any message a user submits.  The first two bytes give a
 * split point, the rest is the message.  Besides the sanitizers' checks
 * it asserts: fields lie inside the message, each a name of printable
 * ASCII but ':', any blanks and a colon; each canonical field is the
 * lower-case name, a colon, a value without CR, LF, tab, a leading,
 * trailing or doubled space, then CRLF; a From domain is a name DKIM can
 * use, in lower case; h= always names from, reply-to and subject, and
 * gives a DKIM-Signature field whose lines (d= aside) keep to 78
 * characters and whose hashed form is its own canonical form; the
 * canonical body is the same fed whole or in two pieces, and has CRLF
 * line ends only, no blanks at their end, no empty lines at its end.
 * Built and run by tests/fuzz.sh. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "dkim.h"

static struct dkim_field f[DKIM_FIELDS_MAX];

static void collect(void *ctx, const char *b, size_t n)
{
	if (!str_catb(ctx, b, n))
		abort();
}

static void body_canon(const char *m, size_t n, size_t cut, struct str *out)
{
	struct dkim_body b;

	dkim_body_init(&b, collect, out);
	dkim_body_put(&b, m, cut);
	dkim_body_put(&b, m + cut, n - cut);
	dkim_body_end(&b);
}

static void check_body(const struct str *s)
{
	size_t i;

	if (s->len == 0)
		return;
	if (s->len < 3 || memcmp(s->s + s->len - 2, "\r\n", 2) != 0)
		abort(); /* text, then CRLF */
	if (s->len >= 4 && memcmp(s->s + s->len - 4, "\r\n\r\n", 4) == 0)
		abort(); /* an empty line at the end */
	for (i = 0; i < s->len; i++) {
		if (s->s[i] == '\t' || (s->s[i] == ' ' && (s->s[i + 1] == ' ' || (s->s[i + 1] == '\r' && s->s[i + 2] == '\n'))))
			abort();
		if (s->s[i] == '\n' && (i == 0 || s->s[i - 1] != '\r'))
			abort();
	}
}

static void check_field(const struct dkim_field *x, const char *m, size_t n)
{
	struct str c = STR_INIT;
	size_t i, colon;

	if (x->raw < m || x->rawlen > n || x->raw + x->rawlen > m + n || x->name != x->raw || x->namelen == 0 ||
	    x->namelen >= x->rawlen)
		abort();
	for (i = 0; i < x->namelen; i++)
		if (x->name[i] < 33 || x->name[i] > 126 || x->name[i] == ':')
			abort();
	for (colon = x->namelen; colon < x->rawlen && (x->raw[colon] == ' ' || x->raw[colon] == '\t'); colon++)
		;
	if (colon == x->rawlen || x->raw[colon] != ':')
		abort();
	if (dkim_canon_field(x, &c) || c.len < x->namelen + 3 || c.s[x->namelen] != ':' ||
	    memcmp(c.s + c.len - 2, "\r\n", 2) != 0)
		abort();
	for (i = 0; i < x->namelen; i++)
		if (c.s[i] >= 'A' && c.s[i] <= 'Z')
			abort();
	for (i = x->namelen + 1; i < c.len - 2; i++)
		if (c.s[i] == '\r' || c.s[i] == '\n' || c.s[i] == '\t' ||
		    (c.s[i] == ' ' && (i == x->namelen + 1 || c.s[i + 1] == ' ' || i + 1 == c.len - 2)))
			abort();
	str_free(&c);
}

static void check_sig(const struct str *h)
{
	static const char bh[] = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
	struct str sig = STR_INIT, hashed = STR_INIT, canon = STR_INIT;
	struct dkim_field x;
	size_t at = 0;

	if (dkim_sig_head(&sig, "rsa-sha256", "example.com", "sel", 1700000000, h, bh) ||
	    dkim_sig_hashed(&sig, &hashed))
		abort();
	x.name = x.raw = sig.s;
	x.namelen = 14;
	x.rawlen = sig.len;
	if (dkim_canon_field(&x, &canon) || canon.len != hashed.len + 2 || memcmp(canon.s, hashed.s, hashed.len) != 0)
		abort();
	if (dkim_sig_finish(&sig, "QUJD"))
		abort();
	while (at < sig.len) {
		const char *nl = memchr(sig.s + at, '\n', sig.len - at);
		if (!nl || (size_t)(nl - sig.s) - at > 78)
			abort();
		at = (size_t)(nl - sig.s) + 1;
	}
	str_free(&sig);
	str_free(&hashed);
	str_free(&canon);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct str h = STR_INIT, hashed = STR_INIT, dom = STR_INIT, whole = STR_INIT, parts = STR_INIT;
	const char *m = (const char *)data + 2;
	size_t n, nf, body, i, cut;

	if (size < 2)
		return 0;
	n = size - 2;
	/* the names postern-dkim takes in a D record (and postern-dkimsign in
	 * a K answer): what passes has labels of 1-63 bytes of letters,
	 * digits, '-' and '_', single dots, at most 253 bytes */
	if (dkim_name_ok(m, n)) {
		size_t label = 0;
		if (n == 0 || n > 253)
			abort();
		for (i = 0; i < n; i++) {
			char c = m[i];
			if (c == '.') {
				if (label == 0)
					abort();
				label = 0;
			} else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
			             c == '_') || ++label > 63) {
				abort();
			}
		}
		if (label == 0)
			abort();
	}
	if (dkim_fields(m, n, f, DKIM_FIELDS_MAX, &nf, &body) == 0) {
		if (body > n || nf > DKIM_FIELDS_MAX)
			abort();
		for (i = 0; i < nf; i++)
			check_field(&f[i], m, n);
		if (dkim_from_domain(f, nf, &dom) == 0) {
			if (!dkim_name_ok(dom.s, dom.len) || memchr(dom.s, '_', dom.len))
				abort();
			for (i = 0; i < dom.len; i++)
				if (dom.s[i] >= 'A' && dom.s[i] <= 'Z')
					abort();
			/* the address form agrees: LOCAL@DOM, lower case, a local part */
			{
				struct str a = STR_INIT, d2 = STR_INIT;
				if (dkim_from_address(f, nf, &d2, &a) != 0 || d2.len != dom.len || a.len < dom.len + 2 ||
				    a.s[a.len - dom.len - 1] != '@' || memcmp(a.s + a.len - dom.len, dom.s, dom.len) != 0 ||
				    a.s[a.len] != 0)
					abort();
				for (i = 0; i < a.len; i++)
					if (a.s[i] >= 'A' && a.s[i] <= 'Z')
						abort();
				str_free(&a);
				str_free(&d2);
			}
		}
		if (dkim_signed_fields(f, nf, &h, &hashed))
			abort();
		if (h.len < 21 || memcmp(h.s, "from:", 5) != 0 || !strstr(h.s, "reply-to") || !strstr(h.s, "subject") ||
		    (hashed.len == 0 && strcmp(h.s, "from:reply-to:subject") != 0))
			abort(); /* from, reply-to, subject always; nothing hashed, nothing else */
		check_sig(&h);
	} else {
		body = 0; /* not a header to sign: the body reader gets it all */
	}
	cut = ((size_t)data[0] << 8 | data[1]) % (n - body + 1);
	body_canon(m + body, n - body, n - body, &whole);
	body_canon(m + body, n - body, cut, &parts);
	if (whole.len != parts.len || (whole.len && memcmp(whole.s, parts.s, whole.len) != 0))
		abort();
	check_body(&whole);
	str_free(&h);
	str_free(&hashed);
	str_free(&dom);
	str_free(&whole);
	str_free(&parts);
	return 0;
}
