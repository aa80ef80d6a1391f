/* src/lib/dkimverify.c: DKIM verification's text.  The DKIM-Signature
 * tag list (good, and every way it is refused), where b= lies, the header
 * data in both canonicalizations against strings worked out by hand
 * (over-signing, repeated fields taken bottom up), the simple body and
 * l=, key records, which key fits which signature, the RSA key's DER
 * (a real key from openssl, and broken ones), the Authentication-Results
 * field.  Last, a message signed twice by dkimpy (python3-dkim 1.x,
 * key and t= fixed; both signatures verified by dkimpy): the header data
 * and canonical bodies here must be the bytes dkimpy hashed. */
#include <string.h>
#include "check.h"
#include "dkimverify.h"

static struct dkim_field f[64];
static size_t nf, body;
static struct dkimv_sig S;

static int fields(const char *m)
{
	return dkim_fields(m, strlen(m), f, sizeof f / sizeof f[0], &nf, &body);
}

static int is(const char *p, size_t n, const char *want)
{
	return n == strlen(want) && memcmp(p, want, n) == 0;
}

static int str_is(const struct str *s, const char *want) { return is(s->s ? s->s : "", s->len, want); }

/* the SHA-256 of nothing, in base64: 32 bytes */
#define BH "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
#define BHTAG "bh=" BH
/* a signature with every required tag; "test" as b= */
#define GOOD "v=1; a=rsa-sha256; d=example.com; s=sel; h=from:to; " BHTAG "; b=dGVzdA=="

/* The DKIM-Signature field of value v read into S: NULL or the reason. */
static const char *sig(const char *v)
{
	static struct str m;
	const char *r;

	dkimv_sig_free(&S);
	str_copys(&m, "DKIM-Signature: ");
	str_cats(&m, v);
	f[0].name = f[0].raw = m.s;
	f[0].namelen = 14;
	f[0].rawlen = m.len;
	r = dkimv_sig_parse(&f[0], &S);
	return r;
}
#define OK(v) (sig(v) == 0)
#define WHY(v, why) (sig(v) != 0 && strcmp(sig(v), why) == 0)
#define MALF(v) WHY(v, "malformed signature")

static void tags(void)
{
	static const unsigned char bh[32] = { 0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4,
	                                      0xc8, 0x99, 0x6f, 0xb9, 0x24, 0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b,
	                                      0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55 };
	struct str m = STR_INIT;
	size_t i;

	CHECK(OK(GOOD) && S.alg == DKIMV_RSA_SHA256 && S.hcanon == DKIMV_SIMPLE && S.bcanon == DKIMV_SIMPLE &&
	      !strcmp(S.d, "example.com") && !strcmp(S.s, "sel") && S.i[0] == 0 && !S.has_l && !S.has_t && !S.has_x,
	      "a good signature: tags read, c= simple/simple by default");
	CHECK(OK(GOOD) && S.nh == 2 && S.h.len == 8 && !memcmp(S.h.s, "from\0to\0", 8), "h=: names, NUL after each");
	CHECK(OK(GOOD) && S.blen == 4 && !memcmp(S.b, "test", 4) && !strcmp(S.bprefix, "dGVzdA==") &&
	      !memcmp(S.bh, bh, 32), "b= and bh= decoded; bprefix its first 8 characters");
	CHECK(OK(GOOD ";") && OK(GOOD "; ") && OK(GOOD ";\n ") && OK(" " GOOD " ;\n\t"),
	      "a ';' and FWS may end the list");
	CHECK(OK("v=1;a=rsa-sha256;d=example.com;s=sel;h=from;" BHTAG ";b=dGVzdA=="), "no blanks at all");
	CHECK(OK("v \t= 1 ;\n a\n =\n rsa-sha256; d=example.com; s=sel; h=from; " BHTAG "; b=dGVzdA=="),
	      "FWS around names, '=' and values");
	CHECK(OK(GOOD "; z=; zz_9=x; Q=anything at all"), "unknown tags ignored, empty values too");
	CHECK(MALF(GOOD "; v=1") && MALF("v=1; " GOOD) && MALF(GOOD "; z=a; z=b"), "a tag twice: malformed, unknown ones too");
	CHECK(MALF(GOOD "; 1a=x") && MALF(GOOD "; a-b=x") && MALF(GOOD "; _x=y") && MALF(GOOD "; =x"),
	      "a tag name not ALPHA *(ALPHA / DIGIT / \"_\"): malformed");
	CHECK(MALF(GOOD "; z") && MALF(GOOD "; z y=1"), "no '=': malformed");
	CHECK(MALF(GOOD ";;") && MALF("; " GOOD) && MALF(""), "an empty tag-spec, an empty list: malformed");
	CHECK(MALF(GOOD "; z=a\x01z") && MALF(GOOD "; z=\xc3\xa9") && MALF(GOOD "; z=a\nb"),
	      "a control, an 8-bit byte, a line end without a blank in a value: malformed");
	CHECK(MALF("V=1; a=rsa-sha256; d=example.com; s=sel; h=from; " BHTAG "; b=dGVzdA=="),
	      "tag names are case-sensitive: V= is no v=");
	str_copys(&m, GOOD);
	for (i = 0; i < 64 - 7; i++) {
		str_cats(&m, "; z");
		str_catu(&m, i);
		str_cats(&m, "=1");
	}
	CHECK(OK(m.s), "64 tags");
	str_cats(&m, "; y=1");
	CHECK(MALF(m.s), "65 tags: malformed");

	CHECK(MALF("a=rsa-sha256; d=example.com; s=sel; h=from; " BHTAG "; b=dGVzdA=="), "no v=: malformed");
	CHECK(WHY("v=2; foo=bar", "unsupported version") && WHY("v=1.0; " BHTAG, "unsupported version"),
	      "v= other than 1: unsupported version, nothing else read");
	CHECK(MALF("v=1; d=example.com; s=sel; h=from; " BHTAG "; b=dGVzdA=="), "no a=: malformed");
	CHECK(MALF("v=1; a=rsa-sha256; d=example.com; s=sel; h=from; " BHTAG), "no b=: malformed");
	CHECK(MALF("v=1; a=rsa-sha256; d=example.com; s=sel; h=from; b=dGVzdA=="), "no bh=: malformed");
	CHECK(MALF("v=1; a=rsa-sha256; s=sel; h=from; " BHTAG "; b=dGVzdA=="), "no d=: malformed");
	CHECK(MALF("v=1; a=rsa-sha256; d=example.com; h=from; " BHTAG "; b=dGVzdA=="), "no s=: malformed");
	CHECK(MALF("v=1; a=rsa-sha256; d=example.com; s=sel; " BHTAG "; b=dGVzdA=="), "no h=: malformed");

	CHECK(WHY("v=1; a=rsa-sha256; d=example.com; s=sel; h=to:subject; " BHTAG "; b=dGVzdA==", "from not signed") &&
	      !strcmp(S.d, "example.com") && !strcmp(S.bprefix, "dGVzdA=="), "h= without from: from not signed, d= and b= read");
	CHECK(OK("v=1; a=rsa-sha256; d=example.com; s=sel; h=To : FROM\n\t: x-a; " BHTAG "; b=dGVzdA==") && S.nh == 3 &&
	      S.h.len == 12 && !memcmp(S.h.s, "to\0from\0x-a\0", 12), "h=: FWS around colons, names in lower case");
	CHECK(MALF("v=1; a=rsa-sha256; d=example.com; s=sel; h=from:; " BHTAG "; b=dGVzdA==") &&
	      MALF("v=1; a=rsa-sha256; d=example.com; s=sel; h=from::to; " BHTAG "; b=dGVzdA==") &&
	      MALF("v=1; a=rsa-sha256; d=example.com; s=sel; h=:from; " BHTAG "; b=dGVzdA==") &&
	      MALF("v=1; a=rsa-sha256; d=example.com; s=sel; h=fr om; " BHTAG "; b=dGVzdA==") &&
	      MALF("v=1; a=rsa-sha256; d=example.com; s=sel; h=; " BHTAG "; b=dGVzdA=="),
	      "h=: an empty name, a blank inside one, none at all: malformed");
	str_copys(&m, "v=1; a=rsa-sha256; d=example.com; s=sel; " BHTAG "; b=dGVzdA==; h=from");
	for (i = 1; i < 2048; i++)
		str_cats(&m, ":x");
	CHECK(OK(m.s) && S.nh == 2048, "h= of 2048 names");
	str_cats(&m, ":x");
	CHECK(MALF(m.s), "h= of 2049 names: malformed");

	CHECK(WHY(GOOD "; i=@example.org", "i= not in d=") && WHY(GOOD "; i=a@badexample.com", "i= not in d=") &&
	      WHY(GOOD "; i=a@com", "i= not in d="), "i= outside d=: i= not in d= (a label boundary counts)");
	CHECK(OK(GOOD "; i=@example.com") && !strcmp(S.i, "@example.com"), "i= of d= itself, no local part");
	CHECK(OK(GOOD "; i=Joe.Q@Mail.EXAMPLE.com") && !strcmp(S.i, "Joe.Q@Mail.EXAMPLE.com"),
	      "i= in a subdomain, any case: kept as written");
	CHECK(OK(GOOD "; i=a=40b@ex\n ample.com") && !strcmp(S.i, "a=40b@example.com"), "FWS in i= dropped");
	CHECK(OK(GOOD "; i=\"a@b\"@example.com"), "the last '@' begins i='s domain");
	CHECK(MALF(GOOD "; i=joe") && MALF(GOOD "; i=joe@") && MALF(GOOD "; i=joe@ex!ample.com") && MALF(GOOD "; i="),
	      "i= without '@' or a domain: malformed");
	str_copys(&m, GOOD "; i=");
	for (i = 0; i < 507 - 12; i++)
		str_catc(&m, 'a');
	str_cats(&m, "@example.com");
	CHECK(OK(m.s) && strlen(S.i) == 507, "i= of 507 bytes");
	str_truncate(&m, m.len - 12);
	str_cats(&m, "a@example.com");
	CHECK(MALF(m.s), "i= of 508 bytes: malformed");

	CHECK(OK(GOOD "; c=simple") && S.hcanon == DKIMV_SIMPLE && S.bcanon == DKIMV_SIMPLE, "c=simple");
	CHECK(OK(GOOD "; c=relaxed") && S.hcanon == DKIMV_RELAXED && S.bcanon == DKIMV_SIMPLE,
	      "c=relaxed: relaxed/simple");
	CHECK(OK(GOOD "; c=relaxed/relaxed") && S.hcanon == DKIMV_RELAXED && S.bcanon == DKIMV_RELAXED, "c=relaxed/relaxed");
	CHECK(OK(GOOD "; c=simple/relaxed") && S.hcanon == DKIMV_SIMPLE && S.bcanon == DKIMV_RELAXED, "c=simple/relaxed");
	CHECK(OK(GOOD "; c=Relaxed/SIMPLE") && S.hcanon == DKIMV_RELAXED && S.bcanon == DKIMV_SIMPLE, "c= in any case");
	CHECK(WHY(GOOD "; c=relaxed/", "unsupported canonicalization") &&
	      WHY(GOOD "; c=/relaxed", "unsupported canonicalization") &&
	      WHY(GOOD "; c=nowsp", "unsupported canonicalization") &&
	      WHY(GOOD "; c=relaxed/relaxed/simple", "unsupported canonicalization") &&
	      WHY(GOOD "; c=", "unsupported canonicalization"), "other c=: unsupported canonicalization");

	CHECK(WHY("v=1; a=rsa-sha1; d=example.com; s=sel; h=from; " BHTAG "; b=dGVzdA==", "unsupported algorithm") &&
	      !strcmp(S.d, "example.com"), "a=rsa-sha1: unsupported algorithm (RFC 8301)");
	CHECK(WHY("v=1; a=foo; d=example.com; s=sel; h=from; " BHTAG "; b=dGVzdA==", "unsupported algorithm"),
	      "a=foo: unsupported algorithm");
	CHECK(OK("v=1; a=ed25519-sha256; d=example.com; s=sel; h=from; " BHTAG "; b=dGVzdA==") &&
	      S.alg == DKIMV_ED25519_SHA256, "a=ed25519-sha256");
	CHECK(OK("v=1; a=RSA-SHA256; d=example.com; s=sel; h=from; " BHTAG "; b=dGVzdA==") && S.alg == DKIMV_RSA_SHA256,
	      "a= in any case");
	CHECK(MALF("v=1; a=rsa-sha1; d=exa mple.com; s=sel; h=from; " BHTAG "; b=dGVzdA=="),
	      "the form of every tag before what it asks: malformed first");

	CHECK(OK(GOOD "; q=dns/txt") && OK(GOOD "; q=foo/bar : DNS/TXT"), "q= with dns/txt");
	CHECK(WHY(GOOD "; q=foo", "unsupported query method") && WHY(GOOD "; q=dns", "unsupported query method"),
	      "q= without dns/txt: unsupported query method");
	CHECK(MALF(GOOD "; q=") && MALF(GOOD "; q=dns/txt:"), "q= empty or with an empty method: malformed");

	CHECK(OK(GOOD "; l=0") && S.has_l && S.l == 0, "l=0");
	CHECK(OK(GOOD "; l=18446744073709551615") && S.l == 18446744073709551615ULL, "l=2^64-1");
	CHECK(OK(GOOD "; l=18446744073709551616") && S.l == 18446744073709551615ULL, "l=2^64: 2^64-1");
	str_copys(&m, GOOD "; l=");
	for (i = 0; i < 76; i++)
		str_catc(&m, '9');
	CHECK(OK(m.s) && S.l == 18446744073709551615ULL, "l= of 76 digits: 2^64-1");
	str_catc(&m, '9');
	CHECK(MALF(m.s), "l= of 77 digits: malformed");
	CHECK(MALF(GOOD "; l=") && MALF(GOOD "; l=-1") && MALF(GOOD "; l=+1") && MALF(GOOD "; l=1 2") &&
	      MALF(GOOD "; l=12a"), "l= not digits: malformed");
	CHECK(OK(GOOD "; t=999999999999; x=999999999999") && S.has_t && S.has_x && S.t == 999999999999ULL,
	      "t= and x= of 12 digits");
	CHECK(MALF(GOOD "; t=1000000000000") && MALF(GOOD "; x=1000000000000") && MALF(GOOD "; t=") &&
	      MALF(GOOD "; x=1e9"), "t= or x= of 13 digits, or not digits: malformed");
	CHECK(WHY(GOOD "; t=1700000000; x=1699999999", "expiry before timestamp"), "x= below t=: expiry before timestamp");
	CHECK(OK(GOOD "; t=1700000000; x=1700000000") && OK(GOOD "; x=5") && OK(GOOD "; t=5"),
	      "x= equal to t=, or either alone");

	CHECK(OK("v=1; a=rsa-sha256; d=example.com; s=sel; h=from; " BHTAG "; b=dGVz\n\tdA\n  ==") && S.blen == 4 &&
	      !memcmp(S.b, "test", 4) && !strcmp(S.bprefix, "dGVzdA=="), "FWS inside b=");
	CHECK(OK("v=1; a=rsa-sha256; d=example.com; s=sel; h=from; bh=47DEQpj8HBSa+/TImW+5JC\n euQeRkm5NMpJWZG3hSuFU=; "
	         "b=d G V z d A = =") && !memcmp(S.bh, bh, 32), "FWS inside bh= and between every character of b=");
	CHECK(MALF(GOOD "x") && MALF("v=1; a=rsa-sha256; d=example.com; s=sel; h=from; " BHTAG "; b=dGVz*A==") &&
	      MALF("v=1; a=rsa-sha256; d=example.com; s=sel; h=from; " BHTAG "; b=") &&
	      MALF("v=1; a=rsa-sha256; d=example.com; s=sel; h=from; " BHTAG "; b=dGVzd==="),
	      "b= not base64, empty: malformed");
	CHECK(MALF("v=1; a=rsa-sha256; d=example.com; s=sel; h=from; bh=dGVzdA==; b=dGVzdA==") &&
	      MALF("v=1; a=rsa-sha256; d=example.com; s=sel; h=from; bh=" "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=AAAA; b=dGVzdA=="),
	      "bh= not 32 bytes: malformed");
	str_copys(&m, "v=1; a=rsa-sha256; d=example.com; s=sel; h=from; " BHTAG "; b=");
	for (i = 0; i < 1364; i++)
		str_catc(&m, 'A');
	str_cats(&m, "AA==");
	CHECK(OK(m.s) && S.blen == 1024, "b= of 1024 bytes");
	str_truncate(&m, m.len - 4);
	str_cats(&m, "AAA=");
	CHECK(WHY(m.s, "signature too long") && strlen(S.bprefix) == DKIMV_BPREFIX_MAX && S.bshow == 8 &&
	      !strncmp(S.bprefix, "AAAAAAAA", 8) && !strcmp(S.d, "example.com"),
	      "b= of 1025 bytes: signature too long, the signature still named");
	for (i = 0; i < 1000; i++)
		str_catc(&m, 'A');
	CHECK(WHY(m.s, "signature too long"), "b= of 2,000 characters: signature too long");

	CHECK(OK("v=1; a=rsa-sha256; d=Mail.Example.COM; s=Sel_1.x; h=from; " BHTAG "; b=dGVzdA==") &&
	      !strcmp(S.d, "mail.example.com") && !strcmp(S.s, "sel_1.x"), "d= and s= kept in lower case");
	CHECK(MALF("v=1; a=rsa-sha256; d=exa mple.com; s=sel; h=from; " BHTAG "; b=dGVzdA==") &&
	      MALF("v=1; a=rsa-sha256; d=example..com; s=sel; h=from; " BHTAG "; b=dGVzdA==") &&
	      MALF("v=1; a=rsa-sha256; d=example.com.; s=sel; h=from; " BHTAG "; b=dGVzdA==") &&
	      MALF("v=1; a=rsa-sha256; d=; s=sel; h=from; " BHTAG "; b=dGVzdA==") &&
	      MALF("v=1; a=rsa-sha256; d=example.com; s=s/l; h=from; " BHTAG "; b=dGVzdA=="),
	      "d= or s= no name DKIM can use: malformed");

	/* the field's own syntax */
	{
		static const char raw[] = "DKIM-Signature \t: " GOOD;
		static const char nocolon[] = "DKIM-Signature " GOOD;
		struct dkim_field x = { raw, 14, raw, sizeof raw - 1 };
		struct dkim_field y = { nocolon, 14, nocolon, sizeof nocolon - 1 };
		dkimv_sig_free(&S);
		CHECK(dkimv_sig_parse(&x, &S) == 0, "blanks before the colon");
		dkimv_sig_free(&S);
		CHECK(dkimv_sig_parse(&y, &S) != 0, "no colon: malformed");
	}
	str_free(&m);
}

/* b_start and b_end: what is between them is b='s value with its FWS */
static int b_is(const char *want)
{
	return is(f[0].raw + S.b_start, S.b_end - S.b_start, want) && S.b_end <= f[0].rawlen;
}

static void b_place(void)
{
	CHECK(OK(GOOD) && b_is("dGVzdA==") && S.b_end == f[0].rawlen && is(f[0].raw + S.b_start - 2, 2, "b="),
	      "b= last: from after '=' to the end");
	CHECK(OK("v=1; b= dGVz\n dA== ; a=rsa-sha256; d=example.com; s=sel; h=from; " BHTAG) && b_is(" dGVz\n dA== ") &&
	      f[0].raw[S.b_end] == ';', "b= inside: from after '=' to the ';', FWS included");
	CHECK(OK(GOOD ";") && b_is("dGVzdA==") && f[0].raw[S.b_end] == ';', "b= before a final ';'");
	CHECK(OK("v=1; b\n =dGVzdA==;a=rsa-sha256; d=example.com; s=sel; h=from; " BHTAG) && b_is("dGVzdA=="),
	      "FWS between b and '='");
}

static int header_is(const char *m, const char *want)
{
	struct str out = STR_INIT;
	int ok;

	str_copys(&out, "x"); /* appended to */
	dkimv_sig_free(&S);
	ok = fields(m) == 0 && dkimv_sig_parse(&f[0], &S) == 0 && dkimv_header_data(f, nf, 0, &S, &out) == 0 &&
	     out.s[0] == 'x' && is(out.s + 1, out.len - 1, want);
	if (!ok && out.s)
		printf("# got %s\n", out.s);
	str_free(&out);
	dkimv_sig_free(&S);
	return ok;
}

#define SIGHEAD(c) "DKIM-Signature: v=1; a=rsa-sha256; c=" c "; d=Example.COM; s=Sel;\n" \
	" h=From:x:X:x:subject : to:from; " BHTAG ";\n b=AAAA\n\tBBBB\n"
#define FIELDS "X: 1\nFrom: a@example.com\nx:  2 \nSubject:  s \n\t t\nX: 3\nDKIM-Signature: v=1; b=other\n\nbody\n"

static void header_data(void)
{
	struct str out = STR_INIT;

	/* from, then the three x bottom up, subject; to (none) and the second
	 * from (none left) add nothing; then the signature without b='s value */
	CHECK(header_is(SIGHEAD("simple/relaxed") FIELDS,
	                "From: a@example.com\r\n"
	                "X: 3\r\n"
	                "x:  2 \r\n"
	                "X: 1\r\n"
	                "Subject:  s \r\n\t t\r\n"
	                "DKIM-Signature: v=1; a=rsa-sha256; c=simple/relaxed; d=Example.COM; s=Sel;\r\n"
	                " h=From:x:X:x:subject : to:from; " BHTAG ";\r\n b="),
	      "header data, simple: fields as they are, bottom up, over-signed names adding nothing");
	CHECK(header_is(SIGHEAD("relaxed/simple") FIELDS,
	                "from:a@example.com\r\n"
	                "x:3\r\n"
	                "x:2\r\n"
	                "x:1\r\n"
	                "subject:s t\r\n"
	                "dkim-signature:v=1; a=rsa-sha256; c=relaxed/simple; d=Example.COM; s=Sel; "
	                "h=From:x:X:x:subject : to:from; " BHTAG "; b="),
	      "header data, relaxed: the same fields canonical, the signature unterminated");
	CHECK(header_is("DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=sel;\r\n h=from; b=AA\r\n AA; " BHTAG
	                "\r\nFrom: a@b\r\n\r\n",
	                "From: a@b\r\nDKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=sel;\r\n h=from; b=; " BHTAG),
	      "header data, simple, CRLF line ends: a CR before LF not doubled, b= removed mid-field");
	CHECK(header_is("DKIM-Signature: v=1; a=rsa-sha256; c=relaxed; d=example.com; s=sel;\r\n h=from:DKIM-Signature; "
	                "b=AA\r\n AA; " BHTAG "\r\nFrom: a@b\r\n\r\n",
	                "from:a@b\r\n"
	                "dkim-signature:v=1; a=rsa-sha256; c=relaxed; d=example.com; s=sel; h=from:DKIM-Signature; "
	                "b=AA AA; " BHTAG "\r\n"
	                "dkim-signature:v=1; a=rsa-sha256; c=relaxed; d=example.com; s=sel; h=from:DKIM-Signature; "
	                "b=; " BHTAG),
	      "h= naming DKIM-Signature takes the field itself, whole, when it is the last");
	/* a signature that does not fit its field is refused */
	dkimv_sig_free(&S);
	CHECK(fields(SIGHEAD("simple") FIELDS) == 0 && dkimv_sig_parse(&f[0], &S) == 0, "parsed");
	S.b_end = f[0].rawlen + 1;
	CHECK(dkimv_header_data(f, nf, 0, &S, &out) == -1, "b_end past the field: -1");
	S.b_end = f[0].rawlen;
	CHECK(dkimv_header_data(f, nf, nf, &S, &out) == -1, "sig past the fields: -1");
	dkimv_sig_free(&S);
	str_free(&out);
}

static void collect(void *ctx, const char *b, size_t n)
{
	if (!str_catb(ctx, b, n))
		str_truncate(ctx, 0);
}

/* the canonical body of m in canonicalization c, l= l (when l is not
 * -1), fed in pieces at cut (n: whole) */
static unsigned long long canon(enum dkimv_canon c, long long l, const char *m, size_t n, size_t cut, struct str *out)
{
	struct dkimv_sig s;
	struct dkimv_body b;

	memset(&s, 0, sizeof s);
	s.bcanon = c;
	s.has_l = l >= 0;
	s.l = l >= 0 ? (unsigned long long)l : 0;
	str_copys(out, "");
	dkimv_body_init(&b, &s, collect, out);
	dkimv_body_put(&b, m, cut);
	dkimv_body_put(&b, m + cut, n - cut);
	return dkimv_body_end(&b);
}

static int body_is(enum dkimv_canon c, long long l, const char *m, size_t n, const char *want, size_t wantlen,
                   unsigned long long total)
{
	struct str s = STR_INIT;
	unsigned long long t = canon(c, l, m, n, n, &s);
	int ok = t == total && s.len == wantlen && (wantlen == 0 || memcmp(s.s, want, wantlen) == 0);
	str_free(&s);
	return ok;
}
#define SIMPLE(m, want) body_is(DKIMV_SIMPLE, -1, m, sizeof m - 1, want, sizeof want - 1, sizeof want - 1)
#define CUT(c, l, m, want, total) body_is(c, l, m, sizeof m - 1, want, sizeof want - 1, total)

static int splits_agree(enum dkimv_canon c, long long l, const char *m, size_t n)
{
	struct str whole = STR_INIT, part = STR_INIT;
	unsigned long long t = canon(c, l, m, n, n, &whole);
	size_t i;
	int ok = 1;

	for (i = 0; i <= n && ok; i++)
		ok = canon(c, l, m, n, i, &part) == t && part.len == whole.len &&
		     (part.len == 0 || memcmp(part.s, whole.s, part.len) == 0);
	str_free(&whole);
	str_free(&part);
	return ok;
}

static void bodies(void)
{
	struct str s = STR_INIT, t = STR_INIT;
	size_t i;
	int ok;

	CHECK(SIMPLE("", "\r\n"), "simple: an empty body is one CRLF");
	CHECK(SIMPLE("\n", "\r\n") && SIMPLE("\n\n\n", "\r\n") && SIMPLE("\r\n\r\n", "\r\n"),
	      "simple: a body of empty lines is one CRLF");
	CHECK(SIMPLE("a\n\n\n", "a\r\n") && SIMPLE("a\r\n\r\n\n", "a\r\n"), "simple: empty lines at the end dropped");
	CHECK(SIMPLE("a", "a\r\n") && SIMPLE("a\nb", "a\r\nb\r\n"), "simple: a last line without LF gets CRLF");
	CHECK(SIMPLE(" \n\t\n", " \r\n\t\r\n") && SIMPLE("a  \t\n", "a  \t\r\n"),
	      "simple: blanks are text, a line of blanks no empty line");
	CHECK(SIMPLE("\n\na\n\n\nb\n\n", "\r\n\r\na\r\n\r\n\r\nb\r\n"), "simple: empty lines before text kept");
	CHECK(SIMPLE("a\r\nb\r\n", "a\r\nb\r\n"), "simple: a CR before LF is part of the line end");
	CHECK(SIMPLE("a\rb\n", "a\rb\r\n") && SIMPLE("a\r\r\n", "a\r\r\n") && SIMPLE("\r\r\n", "\r\r\n") &&
	      SIMPLE("a\r \n", "a\r \r\n"), "simple: any other CR is text");
	CHECK(SIMPLE("a\r", "a\r\n") && SIMPLE("\r", "\r\n") && SIMPLE("a\n\r", "a\r\n"),
	      "simple: a CR at the very end ends the last line");
	CHECK(SIMPLE("\n\r\rx", "\r\n\r\rx\r\n"), "simple: a CR that turns out text brings the empty lines out");
	CHECK(SIMPLE("a\0b\n\xff\n", "a\0b\r\n\xff\r\n"), "simple: other bytes as they are");

	CHECK(CUT(DKIMV_SIMPLE, 3, "abc\ndef\n", "abc", 10), "simple l=3: 3 bytes out, 10 in all");
	CHECK(CUT(DKIMV_SIMPLE, 4, "abc\ndef\n", "abc\r", 10), "simple l= cuts a CRLF in two");
	CHECK(CUT(DKIMV_SIMPLE, 0, "abc\n", "", 5), "simple l=0: nothing out");
	CHECK(CUT(DKIMV_SIMPLE, 100, "abc\n\n\n", "abc\r\n", 5), "simple l= past the body: all of it, total below l");
	CHECK(CUT(DKIMV_SIMPLE, 1, "", "\r", 2) && CUT(DKIMV_SIMPLE, 2, "\n\n", "\r\n", 2),
	      "simple l= on an empty body's CRLF");
	CHECK(CUT(DKIMV_SIMPLE, 5, "\n\n\n\nx\n", "\r\n\r\n\r", 11), "simple l= inside held empty lines");
	CHECK(CUT(DKIMV_RELAXED, -1, "", "", 0) && CUT(DKIMV_RELAXED, -1, "\n\n", "", 0),
	      "relaxed: an empty body is empty");
	CHECK(CUT(DKIMV_RELAXED, -1, " a  b \t\n\n\nc\n\n", " a b\r\n\r\n\r\nc\r\n", 13), "relaxed: dkim_body's");
	CHECK(CUT(DKIMV_RELAXED, 2, "a  b \n\n", "a ", 5), "relaxed l=2: cut, total the whole");
	CHECK(CUT(DKIMV_RELAXED, 0, "a\n", "", 3) && CUT(DKIMV_RELAXED, 9, "a\n", "a\r\n", 3), "relaxed l=0, l= past the end");

	for (i = 0; i < 5000; i++)
		str_catc(&t, '\n');
	str_cats(&t, "x");
	ok = canon(DKIMV_SIMPLE, -1, t.s, t.len, t.len, &s) == 10003 && s.len == 10003 && s.s[10000] == 'x';
	for (i = 0; ok && i < 5000; i++)
		ok = s.s[2 * i] == '\r' && s.s[2 * i + 1] == '\n';
	CHECK(ok, "simple: 5,000 held empty lines, then text");
	CHECK(canon(DKIMV_SIMPLE, 7, t.s, t.len, 2500, &s) == 10003 && str_is(&s, "\r\n\r\n\r\n\r"),
	      "simple: 5,000 held empty lines cut at l=7");

	ok = 1;
	for (i = 0; ok && i < 300; i++) {
		static const char alpha[] = "ab \t\r\r\n\n";
		char m[24];
		size_t j;
		long long l = (long long)(rnd() % 40) - 5;
		for (j = 0; j < sizeof m; j++)
			m[j] = alpha[rnd() % (sizeof alpha - 1)];
		ok = splits_agree(i & 1 ? DKIMV_RELAXED : DKIMV_SIMPLE, l < 0 ? -1 : l, m, sizeof m);
	}
	CHECK(ok, "pieces give what the whole gives: 300 random bodies, both canonicalizations, l= or not");
	ok = 1;
	for (i = 0; ok && i < 200; i++) {
		static const char alpha[] = "ab \t\r\n\n";
		char m[20];
		size_t j;
		unsigned long long whole;
		for (j = 0; j < sizeof m; j++)
			m[j] = alpha[rnd() % (sizeof alpha - 1)];
		whole = canon(i & 1 ? DKIMV_RELAXED : DKIMV_SIMPLE, -1, m, sizeof m, sizeof m, &t);
		for (j = 0; ok && j <= whole + 1; j++)
			ok = canon(i & 1 ? DKIMV_RELAXED : DKIMV_SIMPLE, (long long)j, m, sizeof m, sizeof m / 2, &s) == whole &&
			     s.len == (j < whole ? j : whole) && (s.len == 0 || memcmp(s.s, t.s, s.len) == 0);
	}
	CHECK(ok, "l= at every length gives a prefix of the whole, and the same total");
	str_free(&s);
	str_free(&t);
}

/* The SPKI of a 1024-bit RSA key: `openssl genrsa 1024 | openssl rsa
 * -pubout -outform DER | xxd -i`.  Its last 140 bytes are the bare
 * PKCS #1 RSAPublicKey (`openssl rsa -RSAPublicKey_out` gives them). */
static const unsigned char spki[] = {
	0x30, 0x81, 0x9f, 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
	0x03, 0x81, 0x8d, 0x00, 0x30, 0x81, 0x89, 0x02, 0x81, 0x81, 0x00, 0xd6, 0x06, 0x01, 0x0b, 0x16, 0x95, 0xf3,
	0x2a, 0xef, 0xde, 0x9b, 0xf6, 0x09, 0x54, 0xe6, 0xb4, 0xcc, 0x2f, 0x5c, 0x7e, 0x6e, 0x6f, 0x1d, 0x04, 0x3a,
	0x83, 0x93, 0x9b, 0x66, 0xca, 0x81, 0x12, 0xa8, 0x0b, 0x96, 0x70, 0xc0, 0x11, 0x8c, 0xf1, 0x08, 0x1e, 0xd5,
	0xa9, 0x29, 0xa5, 0x0a, 0x58, 0xd5, 0xa6, 0xb1, 0xb3, 0x67, 0x73, 0xbb, 0x7f, 0xc8, 0xff, 0xfd, 0x25, 0x96,
	0x6a, 0x89, 0xec, 0x66, 0x11, 0xd9, 0xcf, 0xc2, 0xb4, 0x0a, 0x30, 0x6f, 0xde, 0xac, 0x5d, 0xfe, 0xcd, 0x8c,
	0x94, 0x6f, 0x8d, 0x5f, 0x09, 0x8b, 0x3a, 0xda, 0x9c, 0x22, 0x0d, 0x3a, 0x63, 0x5d, 0x4a, 0x67, 0xee, 0xfd,
	0xf4, 0x43, 0x0b, 0x63, 0x96, 0x82, 0x7d, 0xeb, 0x20, 0x10, 0xc8, 0x4f, 0x37, 0x00, 0xf4, 0xda, 0x01, 0x0e,
	0x1f, 0xbd, 0x9b, 0xc9, 0xa1, 0x74, 0xc4, 0xc6, 0xf6, 0x0f, 0x0d, 0xc8, 0x13, 0x02, 0x03, 0x01, 0x00, 0x01,
};
static const char spki_b64[] = "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDWBgELFpXzKu/em/YJVOa0zC9cfm5vHQQ6g5ObZsqBEqgLl"
                               "nDAEYzxCB7VqSmlCljVprGzZ3O7f8j//SWWaonsZhHZz8K0CjBv3qxd/s2MlG+NXwmLOtqcIg06Y11KZ+799E"
                               "MLY5aCfesgEMhPNwD02gEOH72byaF0xMb2Dw3IEwIDAQAB";
/* the base64 of 32 bytes, an Ed25519 key's length */
#define ED_P "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="

static struct dkimv_key K;

static const char *key(const char *txt) { return dkimv_key_parse(txt, strlen(txt), &K); }
#define KOK(t) (key(t) == 0)
#define KWHY(t, why) (key(t) != 0 && strcmp(key(t), why) == 0)
#define KMALF(t) KWHY(t, "malformed key record")

static void keys(void)
{
	struct str m = STR_INIT;
	size_t i;

	str_copys(&m, "v=DKIM1; k=rsa; p=");
	str_cats(&m, spki_b64);
	CHECK(KOK(m.s) && K.alg == DKIMV_RSA_SHA256 && K.plen == sizeof spki && !memcmp(K.p, spki, sizeof spki) &&
	      !K.testing && !K.strict, "v=DKIM1; k=rsa; p=SPKI");
	str_copys(&m, "p=");
	for (i = 0; spki_b64[i]; i++) {
		str_catc(&m, spki_b64[i]);
		if (i % 40 == 39)
			str_cats(&m, i % 80 == 79 ? " \t" : " ");
	}
	str_cats(&m, " ;");
	CHECK(KOK(m.s) && K.plen == sizeof spki && !memcmp(K.p, spki, sizeof spki),
	      "p= with blanks inside (TXT strings joined), no v= or k=");
	CHECK(KOK("p=") && K.plen == 0 && KOK("v=DKIM1; p=") && K.plen == 0 && KOK("v=DKIM1; p= ;") && K.plen == 0,
	      "an empty p=: revoked, plen 0");
	CHECK(KMALF("k=rsa; v=DKIM1; p=" ED_P) && KMALF("p=; v=DKIM1"), "v= not first: malformed");
	CHECK(KWHY("v=DKIM2; p=", "unsupported key version") && KWHY("v=dkim1; p=", "unsupported key version") &&
	      KWHY("v=; p=", "unsupported key version"), "v= other than DKIM1 (case-sensitive): unsupported key version");
	CHECK(KOK("t=y:s; p=" ED_P) && K.testing && K.strict, "t=y:s");
	CHECK(KOK("t=y; p=" ED_P) && K.testing && !K.strict && KOK("t = s ; p=" ED_P) && !K.testing && K.strict,
	      "t=y, t=s");
	CHECK(KOK("t=x : Y:foo; p=" ED_P) && K.testing && !K.strict, "t= unknown flags ignored, FWS around colons");
	CHECK(KMALF("t=; p=" ED_P) && KMALF("t=y:; p=" ED_P), "t= empty, or an empty flag: malformed");
	CHECK(KWHY("h=sha1; p=" ED_P, "key not for sha256") && KWHY("h=sha512:md5; p=", "key not for sha256"),
	      "h= without sha256: key not for sha256");
	CHECK(KOK("h=sha1:sha256; p=" ED_P) && KOK("h=SHA256; p=") && KOK("h=sha1 : sha256; p="), "h= with sha256");
	CHECK(KMALF("h=; p=") && KMALF("h=sha256:; p="), "h= malformed");
	CHECK(KOK("k=ed25519; p=" ED_P) && K.alg == DKIMV_ED25519_SHA256 && K.plen == 32, "k=ed25519: 32 bytes");
	CHECK(KMALF("k=ed25519; p=dGVzdA==") && KMALF("k=ed25519; p=" BH "AAAA"), "k=ed25519 not 32 bytes: malformed");
	CHECK(KOK("k=ed25519; p=") && K.plen == 0, "k=ed25519 revoked");
	CHECK(KWHY("k=dsa; p=", "unsupported key type") && KWHY("k=; p=", "unsupported key type"),
	      "other k=: unsupported key type");
	CHECK(KOK("s=email; p=") && KOK("s=*; p=") && KOK("s=tlsrpt:email; p=") && KOK("s=EMAIL; p="),
	      "s= with email or *");
	CHECK(KWHY("s=tlsrpt; p=", "key not for email"), "s= without email or *: key not for email");
	CHECK(KMALF("v=DKIM1; k=rsa") && KMALF("") && KMALF(" ; p=") && KMALF("p=; p="),
	      "no p=, an empty record or tag-spec, a tag twice: malformed");
	CHECK(KMALF("p=dGVzd") && KMALF("p=dGVz!A==") && KMALF("p=dGVzdA==\x01"), "p= not base64: malformed");
	CHECK(KOK("n=notes: any text (comments) here; p=") && KOK("v=DKIM1; x=1; p=; y=2"), "n= and unknown tags ignored");
	str_copys(&m, "p=");
	for (i = 0; i < 1732; i++)
		str_catc(&m, 'A');
	str_cats(&m, "AA==");
	CHECK(KOK(m.s) && K.plen == 1300, "p= of 1300 bytes");
	str_truncate(&m, m.len - 4);
	str_cats(&m, "AAA=");
	CHECK(KWHY(m.s, "key too long"), "p= of 1301 bytes: key too long");
	str_truncate(&m, m.len - 4);
	str_cats(&m, "AAAAAAAA");
	CHECK(KWHY(m.s, "key too long"), "p= of 1,740 characters: key too long");
	str_free(&m);
}

static void fits(void)
{
	struct dkimv_key k;

	memset(&k, 0, sizeof k);
	CHECK(OK(GOOD) && dkimv_key_fits(&k, &S) && !strcmp(dkimv_key_fits(&k, &S), "key revoked"), "revoked");
	k.plen = 32;
	k.alg = DKIMV_ED25519_SHA256;
	CHECK(!strcmp(dkimv_key_fits(&k, &S), "key for another algorithm"), "an Ed25519 key, an RSA signature");
	k.alg = DKIMV_RSA_SHA256;
	CHECK(dkimv_key_fits(&k, &S) == 0, "an RSA key, an RSA signature");
	k.strict = 1;
	CHECK(OK(GOOD "; i=joe@mail.example.com") && dkimv_key_fits(&k, &S) &&
	      !strcmp(dkimv_key_fits(&k, &S), "i= not d= under strict key"), "t=s: i= in a subdomain refused");
	CHECK(OK(GOOD "; i=joe@Example.COM") && dkimv_key_fits(&k, &S) == 0, "t=s: i= of d= itself");
	CHECK(OK(GOOD) && dkimv_key_fits(&k, &S) == 0, "t=s: no i=");
	k.strict = 0;
	CHECK(OK(GOOD "; i=joe@mail.example.com") && dkimv_key_fits(&k, &S) == 0, "no t=s: i= in a subdomain");
}

static void rsa_keys(void)
{
	unsigned char b[400];
	const unsigned char *mod, *exp;
	size_t modlen, explen, i;
	int ok;

	CHECK(dkimv_rsa_key(spki, sizeof spki, &mod, &modlen, &exp, &explen) == 0 && mod == spki + 29 && modlen == 128 &&
	      mod[0] == 0xd6 && exp == spki + sizeof spki - 3 && explen == 3 && !memcmp(exp, "\x01\x00\x01", 3),
	      "an SPKI from openssl: modulus without its zero byte, exponent 65537");
	CHECK(dkimv_rsa_key(spki + 22, sizeof spki - 22, &mod, &modlen, &exp, &explen) == 0 && mod == spki + 29 &&
	      modlen == 128 && explen == 3, "its bare PKCS #1 RSAPublicKey");
	ok = 1;
	for (i = 0; ok && i < sizeof spki; i++)
		ok = dkimv_rsa_key(spki, i, &mod, &modlen, &exp, &explen) == -1;
	CHECK(ok, "every truncation of it: -1");
	memcpy(b, spki, sizeof spki);
	b[sizeof spki] = 0;
	CHECK(dkimv_rsa_key(b, sizeof spki + 1, &mod, &modlen, &exp, &explen) == -1, "a byte after it: -1");
	b[15] = 0x05; /* 1.2.840.113549.1.1.5, sha1WithRSAEncryption */
	CHECK(dkimv_rsa_key(b, sizeof spki, &mod, &modlen, &exp, &explen) == -1, "another OID: -1");
	memcpy(b, spki, sizeof spki);
	b[21] = 1;
	CHECK(dkimv_rsa_key(b, sizeof spki, &mod, &modlen, &exp, &explen) == -1, "a BIT STRING with unused bits: -1");
	memcpy(b, spki, sizeof spki);
	b[1] = 0x80;
	CHECK(dkimv_rsa_key(b, sizeof spki, &mod, &modlen, &exp, &explen) == -1, "an indefinite length: -1");
	memcpy(b, spki, sizeof spki);
	b[24] = 0x8a;
	CHECK(dkimv_rsa_key(b, sizeof spki, &mod, &modlen, &exp, &explen) == -1, "a length beyond its parent: -1");
	b[24] = 0x88;
	CHECK(dkimv_rsa_key(b, sizeof spki, &mod, &modlen, &exp, &explen) == -1, "a length short of its parent's: -1");
	/* the modulus without its leading zero: a negative INTEGER */
	memcpy(b, "\x30\x81\x88\x02\x81\x80", 6);
	memcpy(b + 6, spki + 29, 133);
	CHECK(dkimv_rsa_key(b, 139, &mod, &modlen, &exp, &explen) == -1, "a negative modulus: -1");
	memcpy(b, "\x30\x06\x02\x01\x05\x02\x01\x80", 8);
	CHECK(dkimv_rsa_key(b, 8, &mod, &modlen, &exp, &explen) == -1, "a negative exponent: -1");
	memcpy(b, "\x30\x07\x02\x02\x00\x05\x02\x01\x03", 9);
	CHECK(dkimv_rsa_key(b, 9, &mod, &modlen, &exp, &explen) == 0 && modlen == 1 && mod[0] == 5 && explen == 1,
	      "a tiny key, leading zero stripped (length is the caller's to check)");
	memcpy(b, "\x30\x06\x02\x01\x00\x02\x01\x03", 8);
	CHECK(dkimv_rsa_key(b, 8, &mod, &modlen, &exp, &explen) == -1, "a zero modulus: -1");
	memcpy(b, "\x30\x05\x02\x00\x02\x01\x03", 7);
	CHECK(dkimv_rsa_key(b, 7, &mod, &modlen, &exp, &explen) == -1, "an empty INTEGER: -1");
	memcpy(b, "\x30\x09\x02\x01\x05\x02\x01\x03\x02\x01\x01", 11);
	CHECK(dkimv_rsa_key(b, 11, &mod, &modlen, &exp, &explen) == -1, "a third INTEGER: -1");
	/* the parameters' NULL left out, and lengths not minimal */
	memcpy(b, "\x30\x82\x00\x9f\x30\x0b", 6);
	memcpy(b + 6, spki + 5, 11);
	memcpy(b + 17, "\x03\x83\x00\x00\x8d", 5);
	memcpy(b + 22, spki + 21, sizeof spki - 21);
	CHECK(dkimv_rsa_key(b, 22 + sizeof spki - 21, &mod, &modlen, &exp, &explen) == 0 && modlen == 128 &&
	      !memcmp(mod, spki + 29, 128), "no NULL parameters, lengths in more octets than needed");
	/* parameters NULL with a byte in it */
	memcpy(b, "\x30\x81\xa0\x30\x0e", 5);
	memcpy(b + 5, spki + 5, 11);
	memcpy(b + 16, "\x05\x01\x00", 3);
	memcpy(b + 19, spki + 18, sizeof spki - 18);
	CHECK(dkimv_rsa_key(b, 19 + sizeof spki - 18, &mod, &modlen, &exp, &explen) == -1, "a NULL that is not empty: -1");
	b[17] = 0x00;
	CHECK(dkimv_rsa_key(b, 19 + sizeof spki - 18, &mod, &modlen, &exp, &explen) == -1,
	      "a byte after the parameters: -1");
	memcpy(b, "\x30\x89\xff\xff\xff\xff\xff\xff\xff\xff\xff", 11);
	CHECK(dkimv_rsa_key(b, 11, &mod, &modlen, &exp, &explen) == -1, "a length of 9 octets: -1");
	CHECK(dkimv_rsa_key(b, 0, &mod, &modlen, &exp, &explen) == -1 && dkimv_rsa_key(b, 1, &mod, &modlen, &exp, &explen) == -1,
	      "0 and 1 bytes: -1");
	ok = 1;
	for (i = 0; ok && i < 2000; i++) {
		size_t j, n = rnd() % sizeof b;
		for (j = 0; j < n; j++)
			b[j] = (unsigned char)rnd();
		if (i & 1)
			b[0] = 0x30;
		if (dkimv_rsa_key(b, n, &mod, &modlen, &exp, &explen) == 0)
			ok = mod >= b && mod + modlen <= b + n && exp >= b && exp + explen <= b + n && modlen && explen;
	}
	CHECK(ok, "2,000 random byte strings: nothing outside them");
}

static int ar_is(const struct dkimv_result *r, size_t n, const char *want)
{
	struct str out = STR_INIT;
	int ok = dkimv_ar_field(&out, "mx.example.org", r, n) == 0 && str_is(&out, want);
	if (!ok && out.s)
		printf("# got %s", out.s);
	str_free(&out);
	return ok;
}

static void ar_field(void)
{
	struct dkimv_sig a, b;
	struct dkimv_result r[3];
	struct str out = STR_INIT;
	size_t i, at;
	int ok;

	CHECK(ar_is(0, 0, "Authentication-Results: mx.example.org;\n\tdkim=none\n"), "no signature: dkim=none");
	sig("v=1; a=rsa-sha256; d=example.com; s=sel; i=@example.com; h=from; " BHTAG "; b=AbCdEfGhIjKl");
	a = S;
	memset(&S.h, 0, sizeof S.h); /* a's now */
	sig("v=1; a=ed25519-sha256; d=example.net; s=ed; i=a..b@example.net; h=from; " BHTAG "; b=ab/c+fgh");
	b = S;
	memset(&S.h, 0, sizeof S.h);
	memset(r, 0, sizeof r);
	r[0].result = "pass";
	r[0].sig = &a;
	CHECK(ar_is(r, 1, "Authentication-Results: mx.example.org;\n\tdkim=pass header.d=example.com header.i=@example.com "
	                  "header.s=sel header.a=rsa-sha256 header.b=AbCdEfGh\n"), "one pass");
	r[0].comment = "test mode";
	r[1].result = "fail";
	r[1].reason = "signature did not verify";
	r[1].sig = &b;
	r[2].result = "permerror";
	r[2].reason = "malformed signature";
	CHECK(ar_is(r, 3, "Authentication-Results: mx.example.org;\n"
	                  "\tdkim=pass (test mode) header.d=example.com header.i=@example.com header.s=sel "
	                  "header.a=rsa-sha256 header.b=AbCdEfGh;\n"
	                  "\tdkim=fail reason=\"signature did not verify\" header.d=example.net header.s=ed "
	                  "header.a=ed25519-sha256 header.b=\"ab/c+fgh\";\n"
	                  "\tdkim=permerror reason=\"malformed signature\"\n"),
	      "three results: a comment, a reason, no header.i for an i= no dot-atom, header.b quoted for '/'");
	memcpy(b.i, "\"a b\"@example.net", 18);
	memcpy(b.bprefix, "AbCd", 5);
	r[0].result = "neutral";
	r[0].comment = 0;
	r[0].reason = "q\"b\\";
	CHECK(ar_is(r, 2, "Authentication-Results: mx.example.org;\n"
	                  "\tdkim=neutral reason=\"q\\\"b\\\\\" header.d=example.com header.i=@example.com header.s=sel "
	                  "header.a=rsa-sha256 header.b=AbCdEfGh;\n"
	                  "\tdkim=fail reason=\"signature did not verify\" header.d=example.net header.i=\"a b\"@example.net "
	                  "header.s=ed header.a=ed25519-sha256 header.b=AbCd\n"),
	      "a quoted-string local part in header.i; a quote in a reason escaped");
	{
		struct dkimv_result u = { "permerror", "unsupported algorithm", &S, 0 };
		CHECK(sig("v=1; a=rsa-sha1; d=example.com; s=sel; h=from; " BHTAG "; b=AbCdEfGh") && ar_is(&u, 1,
		      "Authentication-Results: mx.example.org;\n\tdkim=permerror reason=\"unsupported algorithm\" "
		      "header.d=example.com header.s=sel header.b=AbCdEfGh\n"), "an unsupported algorithm: no header.a");
	}
	/* the longest names: lines folded before 998 characters */
	memset(a.d, 'd', 253);
	memset(a.s, 's', 253);
	memset(a.i, 'i', 253);
	a.i[253] = '@';
	memcpy(a.i + 254, a.d, 253);
	a.i[507] = 0;
	for (i = 63; i < 253; i += 64)
		a.d[i] = a.s[i] = a.i[254 + i] = '.';
	r[0].sig = &a;
	str_copys(&out, "");
	ok = dkimv_ar_field(&out, "mx.example.org", r, 1) == 0 && out.s[out.len - 1] == '\n' &&
	     strstr(out.s, "\n\theader.");
	for (at = 0; ok && at < out.len;) {
		const char *nl = memchr(out.s + at, '\n', out.len - at);
		ok = nl && (size_t)(nl - out.s) - at <= 998;
		at = (size_t)(nl - out.s) + 1;
	}
	CHECK(ok, "253-byte d= and s=, a 507-byte i=: folded, no line over 998");
	str_copys(&out, "Received: x\n");
	CHECK(dkimv_ar_field(&out, "m", 0, 0) == 0 && str_is(&out, "Received: x\nAuthentication-Results: m;\n\tdkim=none\n"),
	      "appended to out");
	str_free(&out);
	str_free(&a.h);
	str_free(&b.h);
}

/* A message signed by dkimpy (python3-dkim), the key above, time.time
 * fixed at 1700000000, LF line ends: first c=relaxed/relaxed with l=
 * (h= over-signing x-dup and naming an absent reply-to), then a footer
 * appended to the body, then c=simple/simple with i= in a subdomain over
 * that.  dkim.verify passed both; the header data and canonical bodies
 * are what dkimpy's hash_headers and canonicalize_body handed the
 * hash, recorded by wrapping them, and Python checked each bh= is the
 * SHA-256 of its body (the relaxed one cut at 46 bytes). */
static const char e2e_msg[] =
	"DKIM-Signature: v=1; a=rsa-sha256; c=simple/simple; d=example.com;\n"
	" i=alice@mail.example.com; q=dns/txt; s=sel2; t=1700000000; h=from :\n"
	" subject : x-dup : from;\n"
	" bh=RInBJUilKXje8VtlZ5eQ5kYaewt6PRBHsGHnsl2KQ8s=;\n"
	" b=cWyhM7LSh1vYyZ4LwBD85chFpDQwRl9cZtmhypt9j3Qrxd5j9avEBnSP1O2u3lhcrHTfj\n"
	" wvsH68UxO7N09MtXZHQBUg67Mq+/m+dDom5VsIzLRIxvWgD01dbZmKXXGh7a1qTgfE0bDL3\n"
	" n6S0Zk/cbqQQIivt+AqWdJBuKgncQMk=\n"
	"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com;\n"
	" i=@example.com; l=46; q=dns/txt; s=sel; t=1700000000; h=from : to :\n"
	" subject : x-dup : x-dup : x-dup : date : reply-to;\n"
	" bh=PpXl7H8g7yPVQZG32PKcXsvM0fPOHHVRSTLiprEOREA=;\n"
	" b=vfpZ9Kg2GaC4+UpVsuz/sRzu7Pd+jGr/XPL3sx78xN/dZTDmilvk6v356X31mqX2/heX8\n"
	" ANAatYB0sJU0ZckkmWHxXRPLAzwIlhkVlgWiid500uHYRDAxjhb4BZ1lq7nDrMJjsN6BOTp\n"
	" PkrW/XoPLqNGJ6pwYDURdiraz/dySGk=\n"
	"Received: from a by b; Mon, 1 Jan 2024 00:00:00 +0000\n"
	"From: Alice <alice@example.com>\n"
	"To: bob@example.net\n"
	"Subject:  Hello   world  \n"
	"\tfolded  line \n"
	"X-Dup: first\n"
	"X-Dup:  second\n"
	"Date: Mon, 1 Jan 2024 00:00:00 +0000\n"
	"\n"
	"Body line one  \n"
	"\tindented  with   spaces\n"
	"\n"
	"last\n"
	"\n"
	"\n"
	"-- \n"
	"footer  added\n";
static const char e2e_hd0[] =
	"From: Alice <alice@example.com>\r\n"
	"Subject:  Hello   world  \r\n"
	"\tfolded  line \r\n"
	"X-Dup:  second\r\n"
	"DKIM-Signature: v=1; a=rsa-sha256; c=simple/simple; d=example.com;\r\n"
	" i=alice@mail.example.com; q=dns/txt; s=sel2; t=1700000000; h=from :\r\n"
	" subject : x-dup : from;\r\n"
	" bh=RInBJUilKXje8VtlZ5eQ5kYaewt6PRBHsGHnsl2KQ8s=;\r\n"
	" b=";
static const char e2e_hd1[] =
	"from:Alice <alice@example.com>\r\n"
	"to:bob@example.net\r\n"
	"subject:Hello world folded line\r\n"
	"x-dup:second\r\n"
	"x-dup:first\r\n"
	"date:Mon, 1 Jan 2024 00:00:00 +0000\r\n"
	"dkim-signature:v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com; i=@example.com; "
	"l=46; q=dns/txt; s=sel; t=1700000000; "
	"h=from : to : subject : x-dup : x-dup : x-dup : date : reply-to; "
	"bh=PpXl7H8g7yPVQZG32PKcXsvM0fPOHHVRSTLiprEOREA=; b=";
static const char e2e_body0[] =
	"Body line one  \r\n"
	"\tindented  with   spaces\r\n"
	"\r\n"
	"last\r\n"
	"\r\n"
	"\r\n"
	"-- \r\n"
	"footer  added\r\n";
static const char e2e_body1[] =
	"Body line one\r\n"
	" indented with spaces\r\n"
	"\r\n"
	"last\r\n"
	"\r\n"
	"\r\n"
	"--\r\n"
	"footer added\r\n";
static const char e2e_key[] =
	"v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDWBgELFpXzKu/em/YJVOa0zC9cfm5vHQ"
	"Q6g5ObZsqBEqgLlnDAEYzxCB7VqSmlCljVprGzZ3O7f8j//SWWaonsZhHZz8K0CjBv3qxd/s2MlG+NXwmLOtqcIg"
	"06Y11KZ+799EMLY5aCfesgEMhPNwD02gEOH72byaF0xMb2Dw3IEwIDAQAB";
/* what dkimpy signed, for a check with SHA-256 elsewhere: the header data
 * 6c5f6887887e0284c188e912025fbe855d78ca9c925110ad20a1597d77199a84 and
 * 8b54b7459f14b6bd7c5673a08e7b8e7278fed18f091141cd71b50a848032ca0a; the
 * bodies' (the second's first 46 bytes) are bh= */
static const unsigned char e2e_bh0[32] = {
	0x44, 0x89, 0xc1, 0x25, 0x48, 0xa5, 0x29, 0x78, 0xde, 0xf1, 0x5b, 0x65, 0x67, 0x97, 0x90, 0xe6,
	0x46, 0x1a, 0x7b, 0x0b, 0x7a, 0x3d, 0x10, 0x47, 0xb0, 0x61, 0xe7, 0xb2, 0x5d, 0x8a, 0x43, 0xcb,
};
static const unsigned char e2e_bh1[32] = {
	0x3e, 0x95, 0xe5, 0xec, 0x7f, 0x20, 0xef, 0x23, 0xd5, 0x41, 0x91, 0xb7, 0xd8, 0xf2, 0x9c, 0x5e,
	0xcb, 0xcc, 0xd1, 0xf3, 0xce, 0x1c, 0x75, 0x51, 0x49, 0x32, 0xe2, 0xa6, 0xb1, 0x0e, 0x44, 0x40,
};

static void end_to_end(void)
{
	struct dkimv_sig s0, s1;
	struct dkimv_key k;
	struct str out = STR_INIT;
	const unsigned char *mod, *exp;
	size_t modlen, explen;
	unsigned long long total;
	const char *m = e2e_msg;
	size_t n = sizeof e2e_msg - 1;

	CHECK(dkim_fields(m, n, f, sizeof f / sizeof f[0], &nf, &body) == 0 && nf == 9 &&
	      is(f[0].name, f[0].namelen, "DKIM-Signature") && is(f[1].name, f[1].namelen, "DKIM-Signature"),
	      "dkimpy's message: two signatures on top");
	CHECK(dkimv_sig_parse(&f[0], &s0) == 0 && s0.hcanon == DKIMV_SIMPLE && s0.bcanon == DKIMV_SIMPLE &&
	      !strcmp(s0.i, "alice@mail.example.com") && s0.has_t && s0.t == 1700000000 && s0.nh == 4 && s0.blen == 128,
	      "dkimpy's simple/simple signature read");
	CHECK(dkimv_sig_parse(&f[1], &s1) == 0 && s1.hcanon == DKIMV_RELAXED && s1.bcanon == DKIMV_RELAXED &&
	      s1.has_l && s1.l == 46 && s1.nh == 8 && !strcmp(s1.s, "sel") && s1.blen == 128,
	      "dkimpy's relaxed/relaxed signature with l= read");
	CHECK(dkimv_header_data(f, nf, 0, &s0, &out) == 0 && out.len == sizeof e2e_hd0 - 1 &&
	      !memcmp(out.s, e2e_hd0, out.len), "simple header data: the bytes dkimpy hashed");
	str_copys(&out, "");
	CHECK(dkimv_header_data(f, nf, 1, &s1, &out) == 0 && out.len == sizeof e2e_hd1 - 1 &&
	      !memcmp(out.s, e2e_hd1, out.len), "relaxed header data: the bytes dkimpy hashed");
	total = canon(DKIMV_SIMPLE, -1, m + body, n - body, 7, &out);
	CHECK(total == sizeof e2e_body0 - 1 && out.len == total && !memcmp(out.s, e2e_body0, out.len),
	      "simple body: the bytes dkimpy hashed (bh= its SHA-256)");
	total = canon(DKIMV_RELAXED, 46, m + body, n - body, 20, &out);
	CHECK(total == sizeof e2e_body1 - 1 && out.len == 46 && !memcmp(out.s, e2e_body1, 46),
	      "relaxed body, footer added after signing: cut at l=46, the bytes dkimpy hashed");
	CHECK(!memcmp(s0.bh, e2e_bh0, 32) && !memcmp(s1.bh, e2e_bh1, 32), "bh= decoded");
	CHECK(dkimv_key_parse(e2e_key, sizeof e2e_key - 1, &k) == 0 && dkimv_key_fits(&k, &s0) == 0 &&
	      dkimv_rsa_key(k.p, k.plen, &mod, &modlen, &exp, &explen) == 0 && modlen == 128 &&
	      !memcmp(mod, spki + 29, 128), "its key record: the openssl key");
	dkimv_sig_free(&s0);
	dkimv_sig_free(&s1);
	str_free(&out);
}

/* header.b long enough to tell apart signatures that differ (RFC 6008) */
static void bshow(void)
{
	static struct dkimv_sig a, b, c, d;
	struct dkimv_sig *sigs[5] = { &a, &b, 0, &c, &d };

	memcpy(a.bprefix, "AAAAAAAAxyz", 12);
	memcpy(b.bprefix, "AAAAAAAAxzz", 12);
	memcpy(c.bprefix, "BBBBBBBBqqq", 12);
	memcpy(d.bprefix, "BBBBBBBBqqq", 12);
	a.bshow = b.bshow = c.bshow = d.bshow = 8;
	dkimv_bshow(sigs, 5);
	CHECK(a.bshow == 10 && b.bshow == 10, "a shared start of 9: 10 characters shown");
	CHECK(c.bshow == 8 && d.bshow == 8, "the same signature twice: no more than 8, nothing tells them apart");
}

int main(void)
{
	tags();
	b_place();
	header_data();
	bodies();
	keys();
	fits();
	rsa_keys();
	ar_field();
	end_to_end();
	bshow();
	dkimv_sig_free(&S);
	return check_done();
}
