/* src/lib/dkim.c and dkimcanon.c: DKIM's text.  RFC 6376 3.4.5's example
 * of relaxed canonicalization, the body's edge cases (empty, empty lines,
 * a last line without LF, blanks, CRs) and its feeding in pieces at every
 * split point; the header section's splitting and what it refuses; the
 * From domain; the choice of signed fields with over-signing, and what
 * they hash checked against a verifier's reading written apart; the
 * DKIM-Signature field's folding and its hashed form; dkim_name_ok. */
#include <string.h>
#include "check.h"
#include "dkim.h"

static struct dkim_field f[DKIM_FIELDS_MAX + 1];
static size_t nf, body;

static void collect(void *ctx, const char *b, size_t n)
{
	if (!str_catb(ctx, b, n))
		str_truncate(ctx, 0);
}

/* the relaxed body of m (n bytes), fed in pieces at the offsets cuts
 * (ascending, ncuts of them) */
static void canon_body(const char *m, size_t n, const size_t *cuts, size_t ncuts, struct str *out)
{
	struct dkim_body b;
	size_t at = 0, i;

	str_truncate(out, 0);
	dkim_body_init(&b, collect, out);
	for (i = 0; i < ncuts; i++) {
		dkim_body_put(&b, m + at, cuts[i] - at);
		at = cuts[i];
	}
	dkim_body_put(&b, m + at, n - at);
	dkim_body_end(&b);
}

static int body_is(const char *m, size_t n, const char *want, size_t wantlen)
{
	struct str s = STR_INIT;
	int ok;

	canon_body(m, n, 0, 0, &s);
	ok = s.len == wantlen && (wantlen == 0 || memcmp(s.s, want, wantlen) == 0);
	str_free(&s);
	return ok;
}
#define BODY(m, want) body_is(m, sizeof m - 1, want, sizeof want - 1)

static int same(const struct str *a, const struct str *b)
{
	return a->len == b->len && (a->len == 0 || memcmp(a->s, b->s, a->len) == 0);
}

/* the same output for every split point in two, and in three */
static int splits_agree(const char *m, size_t n)
{
	struct str whole = STR_INIT, part = STR_INIT;
	size_t cut[2], i, j;
	int ok = 1;

	canon_body(m, n, 0, 0, &whole);
	for (i = 0; i <= n && ok; i++) {
		cut[0] = i;
		canon_body(m, n, cut, 1, &part);
		ok = same(&part, &whole);
		for (j = i; j <= n && ok; j++) {
			cut[1] = j;
			canon_body(m, n, cut, 2, &part);
			ok = same(&part, &whole);
		}
	}
	str_free(&whole);
	str_free(&part);
	return ok;
}
#define SPLITS(m) splits_agree(m, sizeof m - 1)

static int fields(const char *m, size_t n, size_t max)
{
	return dkim_fields(m, n, f, max, &nf, &body);
}
#define FIELDS(m) fields(m, sizeof m - 1, DKIM_FIELDS_MAX)

static int is(const char *p, size_t n, const char *want)
{
	return n == strlen(want) && memcmp(p, want, n) == 0;
}

static int canon_is(const struct dkim_field *x, const char *want)
{
	struct str s = STR_INIT;
	int ok = dkim_canon_field(x, &s) == 0 && str_equals(&s, want);
	str_free(&s);
	return ok;
}

/* the From domain of the header section m, or "-1" */
static const char *from(const char *m)
{
	static struct str d;
	static char out[300];

	const char *r = "-1";

	if (fields(m, strlen(m), DKIM_FIELDS_MAX) == 0 && dkim_from_domain(f, nf, &d) == 0 && d.len < sizeof out) {
		memcpy(out, d.s, d.len);
		out[d.len] = 0;
		r = out;
	}
	str_free(&d);
	return r;
}
#define FROM(m, want) (strcmp(from(m), want) == 0)

static int name_ok(const char *s) { return dkim_name_ok(s, strlen(s)); }

/* every line of the field s at most 78 characters (LF aside), each one
 * after the first starting with a tab, the whole ending with LF */
static int lines_ok(const struct str *s, size_t width)
{
	size_t at = 0;

	if (!s->len || s->s[s->len - 1] != '\n')
		return 0;
	while (at < s->len) {
		const char *nl = memchr(s->s + at, '\n', s->len - at);
		size_t end = (size_t)(nl - s->s);
		if (end - at > width || (at && s->s[at] != '\t'))
			return 0;
		at = end + 1;
	}
	return 1;
}

static void rfc_example(void)
{
	static const char head[] = "A: X\r\nB : Y\t\r\n\tZ  \r\n";
	static const char body_crlf[] = " C \r\nD \t E\r\n\r\n\r\n";
	static const char body_lf[] = " C \nD \t E\n\n\n";
	struct dkim_field a = { head, 1, head, 4 }, b = { head + 6, 1, head + 6, 12 };

	/* "B : Y" has the blank the obsolete syntax allows before the colon */
	CHECK(canon_is(&a, "a:X\r\n"), "RFC 6376 3.4.5: A: X");
	CHECK(canon_is(&b, "b:Y Z\r\n"), "RFC 6376 3.4.5: B : Y <TAB> <CRLF> <TAB> Z <SP><SP>");
	CHECK(FIELDS("A: X\r\nB: Y\t\r\n\tZ  \r\n\r\n C \r\n") == 0 && nf == 2 && canon_is(&f[0], "a:X\r\n") &&
	      canon_is(&f[1], "b:Y Z\r\n") && body == 21, "the example's header section, with CRLF, split");
	CHECK(FIELDS(head) == 0 && nf == 2 && is(f[1].name, f[1].namelen, "B") &&
	      is(f[1].raw, f[1].rawlen, "B : Y\t\r\n\tZ  ") && canon_is(&f[1], "b:Y Z\r\n"), "the example's header section as it stands, \"B : Y\" too");
	CHECK(BODY(body_crlf, " C\r\nD E\r\n"), "RFC 6376 3.4.5: the body, CRLF line ends");
	CHECK(BODY(body_lf, " C\r\nD E\r\n"), "RFC 6376 3.4.5: the body, as the queue holds it");
}

static void bodies(void)
{
	static const char *const msgs[] = {
		"", "\n\n\n", "a b  c\t\t\n\n \n\nd\r\n\r\n", " C \r\nD \t E\r\n\r\n\r\n", "x\r\ry \r\r\n\r \r", "\n\na",
		"l1\n\n\n\t\n \t\nl2 \t",
	};
	struct str s = STR_INIT, t = STR_INIT;
	size_t i;
	int ok;

	CHECK(BODY("", ""), "an empty body is empty, not CRLF");
	CHECK(BODY("\n", "") && BODY("\n\n\n", "") && BODY("\r\n\r\n", ""), "a body of empty lines is empty");
	CHECK(BODY(" \n\t\n \t \n", ""), "lines of blanks only are empty lines, dropped at the end");
	CHECK(BODY("abc", "abc\r\n"), "a last line without LF gets its CRLF");
	CHECK(BODY("abc\n", "abc\r\n"), "LF becomes CRLF");
	CHECK(BODY("abc \t ", "abc\r\n"), "a last line without LF loses its trailing blanks");
	CHECK(BODY("a \t\nb \n", "a\r\nb\r\n"), "trailing blanks dropped");
	CHECK(BODY("a  b\t\tc \t d\n", "a b c d\r\n"), "runs of blanks become one space");
	CHECK(BODY("  a\n\tb\n", " a\r\n b\r\n"), "leading blanks become one space");
	CHECK(BODY("a\n\n\nb\n\n\n", "a\r\n\r\n\r\nb\r\n"), "inner empty lines kept, trailing dropped");
	CHECK(BODY("a\n \n\t\nb\n", "a\r\n\r\n\r\nb\r\n"), "inner lines of blanks kept as empty lines");
	CHECK(BODY("a\nb \n  \n\t \n", "a\r\nb\r\n"), "trailing lines of blanks dropped");
	CHECK(BODY("a\r\nb\r\n", "a\r\nb\r\n"), "a CR before LF is part of the line end");
	CHECK(BODY("a \t\r\n", "a\r\n"), "blanks before CR LF are trailing");
	CHECK(BODY("a\rb\n", "a\rb\r\n"), "a CR inside a line is text");
	CHECK(BODY("a\r \n", "a\r\r\n"), "a CR then a blank: the CR is text, the blank trailing");
	CHECK(BODY("a \r b\n", "a \r b\r\n"), "blanks around an inner CR stay");
	CHECK(BODY("a\r\r\n", "a\r\r\n"), "CR CR LF: the first CR is text");
	CHECK(BODY("a\r", "a\r\n") && BODY("a \r", "a\r\n"), "a CR at the very end ends the last line");
	CHECK(BODY("\r", "") && BODY("\r\n\r", ""), "a lone CR at the end is an empty line");
	CHECK(BODY("\n\n\r\n\rx", "\r\n\r\n\r\n\rx\r\n"), "empty lines before a line of text kept");
	CHECK(BODY(".\n..\n", ".\r\n..\r\n"), "dots are text (dot-stuffing is the wire's)");
	CHECK(BODY("\xc3\xa9 \xff\x01\n", "\xc3\xa9 \xff\x01\r\n"), "other bytes are text");
	CHECK(BODY("a\0 b\n", "a\0 b\r\n"), "a NUL is text");

	/* more empty lines than the output buffer holds, then text */
	for (i = 0; i < 5000; i++)
		str_catc(&t, '\n');
	str_cats(&t, "x");
	canon_body(t.s, t.len, 0, 0, &s);
	ok = s.len == 10003 && s.s[9999] == '\n' && s.s[10000] == 'x';
	for (i = 0; ok && i < 5000; i++)
		ok = s.s[2 * i] == '\r' && s.s[2 * i + 1] == '\n';
	CHECK(ok, "5,000 held empty lines, then text");
	str_truncate(&t, 0);
	for (i = 0; i < 10000; i++)
		str_catc(&t, "ab \t"[i % 4 < 2 ? i % 4 : 2 + (rnd() & 1)]);
	canon_body(t.s, t.len, 0, 0, &s);
	ok = s.len > 2 && s.s[s.len - 2] == '\r' && s.s[s.len - 1] == '\n' && !memchr(s.s, '\t', s.len);
	for (i = 0; ok && i + 4 < s.len; i++)
		ok = memcmp(s.s + i, "ab ", 3) == 0 || memcmp(s.s + i, "b a", 3) == 0 || memcmp(s.s + i, " ab", 3) == 0;
	CHECK(ok, "a 10,000-byte line of words and blanks");

	for (i = 0; i < sizeof msgs / sizeof msgs[0]; i++) {
		char name[80];
		memcpy(name, "pieces give what the whole gives: message ", 42);
		name[42] = (char)('0' + i);
		name[43] = 0;
		CHECK(splits_agree(msgs[i], strlen(msgs[i])), name);
	}
	CHECK(SPLITS("\r\r\r \r\n \r\n\r\r"), "pieces give what the whole gives: CRs and blanks");
	ok = 1;
	for (i = 0; ok && i < 200; i++) {
		static const char alpha[] = "ab \t\r\n\n";
		char m[24];
		size_t j;
		for (j = 0; j < sizeof m; j++)
			m[j] = alpha[rnd() % (sizeof alpha - 1)];
		ok = splits_agree(m, sizeof m);
	}
	CHECK(ok, "pieces give what the whole gives: 200 random messages of CR, LF, blanks and text");
	str_free(&s);
	str_free(&t);
}

static void header(void)
{
	static const char folded[] = "Subject: a\n  b \n\tc\nTo: x\n\nbody\n";
	static const char nul[] = "Subject: a\0b\n\n";
	struct str s = STR_INIT;
	size_t i;

	CHECK(FIELDS(folded) == 0 && nf == 2 && is(f[0].name, f[0].namelen, "Subject") &&
	      is(f[0].raw, f[0].rawlen, "Subject: a\n  b \n\tc") && is(f[1].raw, f[1].rawlen, "To: x") && body == 26,
	      "folded field: raw keeps its continuation lines");
	CHECK(canon_is(&f[0], "subject:a b c\r\n"), "folded field unfolded");
	CHECK(FIELDS("Subject: a\r\n b\r\nTo: x\r\n\r\nbody") == 0 && nf == 2 &&
	      is(f[0].raw, f[0].rawlen, "Subject: a\r\n b") && canon_is(&f[0], "subject:a b\r\n") && body == 25,
	      "CRLF line ends: the last CR is no part of raw");
	CHECK(FIELDS("X-Empty:\nY:  \t \n\n") == 0 && nf == 2 && canon_is(&f[0], "x-empty:\r\n") &&
	      canon_is(&f[1], "y:\r\n"), "fields with empty values");
	CHECK(FIELDS("X:\n \n\t\n\n") == 0 && nf == 1 && canon_is(&f[0], "x:\r\n"), "continuation lines of blanks only");
	CHECK(FIELDS("X-Mixed-Case:\tA  B\t\n") == 0 && canon_is(&f[0], "x-mixed-case:A B\r\n"),
	      "name in lower case, value's case kept");
	CHECK(FIELDS("a:b\nc:d") == 0 && nf == 2 && body == 7 && is(f[1].raw, f[1].rawlen, "c:d"),
	      "header only, no LF at the end: body at the end");
	CHECK(FIELDS("a:b\nc:d\n") == 0 && nf == 2 && body == 8, "header only, no empty line: body at the end");
	CHECK(FIELDS("") == 0 && nf == 0 && body == 0, "empty message");
	CHECK(FIELDS("\nbody") == 0 && nf == 0 && body == 1, "no header at all");
	CHECK(FIELDS("a:b\n\r\nbody") == 0 && nf == 1 && body == 6, "CRLF empty line ends the header");
	CHECK(FIELDS("a:b\n\nc:d\n") == 0 && nf == 1 && body == 5, "fields after the empty line are body");
	CHECK(FIELDS("Subject: \xc3\xa9t\xc3\xa9\n\n") == 0, "8-bit bytes in a value");
	CHECK(FIELDS("!#~:x\n") == 0 && nf == 1 && f[0].namelen == 3, "a name of any printable characters");
	CHECK(FIELDS("a::b\n") == 0 && f[0].namelen == 1 && canon_is(&f[0], "a::b\r\n"), "a colon in the value");
	CHECK(FIELDS("no colon\n\n") == -1, "a line that is no field: -1");
	CHECK(FIELDS("nocolon\n\n") == -1, "a name without a colon: -1");
	CHECK(FIELDS(" a:b\n\n") == -1 && FIELDS("\tx\n") == -1, "a continuation first: -1");
	CHECK(FIELDS(":b\n\n") == -1, "an empty name: -1");
	CHECK(FIELDS("Subject : x\n\n") == 0 && nf == 1 && is(f[0].name, f[0].namelen, "Subject") &&
	      is(f[0].raw, f[0].rawlen, "Subject : x") && canon_is(&f[0], "subject:x\r\n"),
	      "a blank between name and colon (obs-optional): the name without it, deleted in canonical form");
	CHECK(FIELDS("X-A \t \t:\t y \r\n\r\n") == 0 && nf == 1 && is(f[0].name, f[0].namelen, "X-A") &&
	      canon_is(&f[0], "x-a:y\r\n"), "spaces and tabs between name and colon");
	CHECK(FIELDS("A :: c\n\n") == 0 && nf == 1 && f[0].namelen == 1 && canon_is(&f[0], "a:: c\r\n"),
	      "after the blanks, the first colon ends the name");
	CHECK(FIELDS("A b: c\n\n") == -1 && FIELDS("A :b c\n") == 0 && FIELDS("A b :c\n") == -1,
	      "only blanks between name and colon: a blank inside the name: -1");
	CHECK(FIELDS("A \n\n") == -1 && FIELDS("A\t") == -1 && FIELDS("A \r\n\r\n") == -1,
	      "a name and blanks without a colon: -1");
	CHECK(FIELDS("A\n : c\n\n") == -1, "a colon on the next line (folding before it): -1");
	CHECK(FIELDS("A\x7f : c\n") == -1 && FIELDS("A\x01 : c\n") == -1 && FIELDS("\xc3\xa9 : c\n") == -1,
	      "a byte outside printable ASCII in a name with blanks after it: -1");
	CHECK(FIELDS("\xc3\xa9: c\n\n") == -1 && FIELDS("a\x7f: c\n") == -1, "a byte outside printable ASCII in the name: -1");
	CHECK(fields(nul, sizeof nul - 1, DKIM_FIELDS_MAX) == -1, "a NUL: -1");
	CHECK(FIELDS("Subject: a\rb\n\n") == -1 && FIELDS("Subject: a\r") == -1 && FIELDS("a:b\n\r") == -1,
	      "a bare CR: -1");
	CHECK(FIELDS("a:b\n\nx\0\r") == 0, "NUL and CR in the body are not the header's");
	CHECK(fields("a:b\nc:d\ne:f\n", 12, 3) == 0 && nf == 3, "max fields: taken");
	CHECK(fields("a:b\nc:d\ne:f\n", 12, 2) == -1, "over max fields: -1");
	for (i = 0; i <= DKIM_FIELDS_MAX; i++)
		str_cats(&s, "X: y\n");
	CHECK(fields(s.s, s.len, DKIM_FIELDS_MAX + 1) == 0 && nf == DKIM_FIELDS_MAX + 1 &&
	      fields(s.s, s.len, DKIM_FIELDS_MAX) == -1, "DKIM_FIELDS_MAX");
	str_truncate(&s, 0);
	str_cats(&s, "X: ");
	while (s.len < DKIM_HEADER_MAX - 1)
		str_catc(&s, 'y');
	str_catc(&s, '\n');
	CHECK(fields(s.s, s.len, 1) == 0 && nf == 1, "a header section of DKIM_HEADER_MAX bytes");
	str_truncate(&s, s.len - 1);
	str_cats(&s, "y\n");
	CHECK(fields(s.s, s.len, 1) == -1, "over DKIM_HEADER_MAX bytes: -1");
	str_cats(&s, "\nbody");
	CHECK(fields(s.s, s.len, 1) == -1, "over DKIM_HEADER_MAX bytes before the body: -1");
	str_free(&s);
}

static void from_domain(void)
{
	struct str d = STR_INIT;
	char deep[200];
	size_t i;

	CHECK(FROM("From: a@Example.COM\n", "example.com"), "From: a@Example.COM");
	CHECK(FROM("From: \"x@y\" <a@b.example>\n", "b.example"), "an '@' in a quoted display name");
	CHECK(FROM("From: Name (comment @c) <a@b.test.>\n", "b.test"), "a comment with an '@'; the trailing dot stripped");
	CHECK(FROM("From: (c) a@b.test (d)\n", "b.test"), "comments around an addr-spec");
	CHECK(FROM("From: \"a@evil.example\"@b.test\n", "b.test"), "an '@' in a quoted local part");
	CHECK(FROM("From: \"a\\\"@x\" <z@b.test>\n", "b.test"), "a quoted pair in a quoted string");
	CHECK(FROM("From: (a (nested @x) \\) @y) z@b.test\n", "b.test"), "nested comments with a quoted pair");
	CHECK(FROM("From: <a@b.test>\n", "b.test") && FROM("From:<a@b.test>", "b.test"), "an angle-addr alone");
	CHECK(FROM("From: Name < a@b.test >\n", "b.test"), "blanks inside the angle brackets");
	CHECK(FROM("From: J. Q. Public <a@b.test>\n", "b.test"), "dots in the display name (obs-phrase)");
	CHECK(FROM("From: first.last@b.test\n", "b.test"), "a dot-atom local part");
	CHECK(FROM("From: Name\n <a@b.test>\n", "b.test"), "a folded From field");
	CHECK(FROM("From: =?UTF-8?B?SsO2cmc=?= <a@b.test>\n", "b.test"), "an encoded-word display name (B)");
	CHECK(FROM("From: =?utf-8?q?J=C3=B6rg_M?= <a@b.test>\n", "b.test"), "an encoded-word display name (Q)");
	CHECK(FROM("From: J\xc3\xb6rg <a@b.test>\n", "b.test"), "a UTF-8 display name");
	CHECK(FROM("fRoM: a@b.test\n", "b.test"), "the field name in any case");
	CHECK(FROM("From : a@b.test\n", "b.test") && FROM("From\t \t:a@B.test\n", "b.test"),
	      "blanks between From and its colon (obs-optional)");
	CHECK(FROM("From : a@b.test\nFrom: c@d.test\n", "-1"), "From with blanks is a From: two of them: -1");
	CHECK(FROM("Subject: x\nFrom: a@Sub.B-1.test\nTo: c@d.test\n", "sub.b-1.test"), "among other fields");
	CHECK(FROM("From: g: a@b.test;\n", "-1"), "group syntax: -1");
	CHECK(FROM("From: g:;\n", "-1"), "an empty group: -1");
	CHECK(FROM("From: a@b.test, c@d.test\n", "-1"), "two addresses: -1");
	CHECK(FROM("From: <a@b.test> <c@d.test>\n", "-1"), "two angle-addrs: -1");
	CHECK(FROM("From: a@b.test\nFrom: a@b.test\n", "-1"), "two From fields: -1");
	CHECK(FROM("Sender: a@b.test\n", "-1"), "no From: -1");
	CHECK(FROM("From: a@[1.2.3.4]\n", "-1"), "an address literal: -1");
	CHECK(FROM("From: \n", "-1") && FROM("From: (only a comment)\n", "-1"), "no address: -1");
	CHECK(FROM("From: Name\n", "-1"), "a name without an address: -1");
	CHECK(FROM("From: @b.test\n", "-1") && FROM("From: <@b.test>\n", "-1"), "no local part: -1");
	CHECK(FROM("From: a@\n", "-1") && FROM("From: <a@>\n", "-1"), "no domain: -1");
	CHECK(FROM("From: a@b@c.test\n", "-1"), "two '@': -1");
	CHECK(FROM("From: Name a@b.test\n", "-1"), "a display name without angle brackets: -1");
	CHECK(FROM("From: a@b@test <c@d.test>\n", "-1"), "an '@' in an unquoted display name: -1");
	CHECK(FROM("From: <@route:a@b.test>\n", "-1"), "an obsolete route: -1");
	CHECK(FROM("From: <a@b.test\n", "-1") && FROM("From: a@b.test>\n", "-1"), "unbalanced angle brackets: -1");
	CHECK(FROM("From: (a@b.test\n", "-1") && FROM("From: a@b.test)\n", "-1"), "unbalanced comments: -1");
	CHECK(FROM("From: \"a@b.test\n", "-1"), "an unterminated quoted string: -1");
	CHECK(FROM("From: a@b.test.\n", "b.test") && FROM("From: a@b.test..\n", "-1"), "one trailing dot stripped, no more");
	CHECK(FROM("From: a@b..test\n", "-1") && FROM("From: a@.b.test\n", "-1"), "an empty label: -1");
	CHECK(FROM("From: a@b_c.test\n", "-1") && FROM("From: a@b!c.test\n", "-1"), "a domain that is no host name: -1");
	CHECK(FROM("From: a@b .test\n", "-1"), "blanks inside the domain: -1");
	CHECK(FROM("From: a@\xc3\xa9.test\n", "xn--9ca.test"), "a UTF-8 domain: its A-labels");
	CHECK(FROM("From: J\xc3\xb6rg <j\xc3\xb6rg@B\xc3\xbc" "cher.Example>\n", "xn--bcher-kva.example"),
	      "a UTF-8 address in angle brackets: the A-labels, ASCII lower case");
	CHECK(FROM("From: a@\xc3\xa9.test.\n", "xn--9ca.test"), "a UTF-8 domain with a trailing dot");
	CHECK(FROM("From: a@\xff.test\n", "-1") && FROM("From: a@\xc3.test\n", "-1"),
	      "a domain that is not UTF-8: -1");
	CHECK(FROM("From: a@\xc3\xa9_x.test\n", "-1"), "a UTF-8 label with a '_': -1");
	CHECK(FROM("From: a@xn--jrg-sna.test\n", "xn--jrg-sna.test"), "an A-label domain");
	memcpy(deep, "From: ", 6);
	for (i = 0; i < 32; i++)
		deep[6 + i] = '(';
	for (i = 0; i < 32; i++)
		deep[38 + i] = ')';
	memcpy(deep + 70, " a@b.test\n", 11);
	CHECK(FROM(deep, "b.test"), "32 nested comments");
	memcpy(deep, "From: ", 6);
	for (i = 0; i < 33; i++)
		deep[6 + i] = '(';
	for (i = 0; i < 33; i++)
		deep[39 + i] = ')';
	memcpy(deep + 72, " a@b.test\n", 11);
	CHECK(FROM(deep, "-1"), "33 nested comments: -1");
	{
		char big[400];
		memcpy(big, "From: a@", 8);
		for (i = 0; i < 4; i++) {
			memset(big + 8 + i * 64, 'a', 63);
			big[8 + i * 64 + 63] = '.';
		}
		/* 4 labels of 63 and their dots: 256 bytes; cut to 253, then 254 */
		big[8 + 253] = 0;
		CHECK(FROM(big, "-1") == 0 && strlen(from(big)) == 253, "a 253-byte domain");
		big[8 + 253] = 'a';
		big[8 + 254] = 0;
		CHECK(FROM(big, "-1"), "a 254-byte domain: -1");
		memset(big + 8, 'a', 64);
		memcpy(big + 8 + 64, ".test", 6);
		CHECK(FROM(big, "-1"), "a 64-byte label: -1");
	}
	{
		struct dkim_field g = { "From", 4, "From a@b.test", 13 };
		CHECK(dkim_from_domain(&g, 1, &d) == -1, "a From field without a colon: -1");
		{
			static const struct { const char *m, *want; } t[] = {
				{ "From: Info <INFO@Example.COM>\n\n", "info@example.com" },
				{ "From: info(the shop)@x.org\n\n", "info@x.org" },
				{ "From: a . b@x.org.\n\n", "a.b@x.org" },
				{ "From: \"A b\"@x.org\n\n", "\"a b\"@x.org" },
				{ "From: Name <a@x.org> (trailing)\n\n", "a@x.org" },
			};
			size_t k;
			for (k = 0; k < sizeof t / sizeof t[0]; k++) {
				struct str a = STR_INIT, dd = STR_INIT;
				int ok = fields(t[k].m, strlen(t[k].m), DKIM_FIELDS_MAX) == 0 &&
				         dkim_from_address(f, nf, &dd, &a) == 0 && a.len == strlen(t[k].want) &&
				         !memcmp(a.s, t[k].want, a.len) && a.s[a.len] == 0;
				CHECK(ok, "dkim_from_address: the From address, local part as written, ASCII lower case");
				str_free(&a);
				str_free(&dd);
			}
		}
	}
	str_free(&d);
}

/* What a verifier hashes for the fields h names in the header section m
 * (RFC 6376 5.4.2 and 3.4.2), read here apart from dkim_fields and
 * dkim_canon_field: each name of h takes the last field of that name not
 * yet taken (its name the bytes before the first colon, trailing blanks
 * deleted, in any case); a name with none left adds nothing. */
static int verifier_hashes(const char *m, const char *h, struct str *out)
{
	const char *start[64], *end[64];
	int taken[64];
	size_t nfield = 0, i;
	const char *p = m;

	/* the fields: a line, and the lines after it starting with a blank */
	while (*p && *p != '\n' && !(p[0] == '\r' && p[1] == '\n')) {
		if (*p != ' ' && *p != '\t') {
			if (nfield == 64)
				return 0;
			start[nfield] = p;
			taken[nfield++] = 0;
		} else if (nfield == 0) {
			return 0;
		}
		p += strcspn(p, "\n");
		end[nfield - 1] = p;
		if (*p)
			p++;
	}
	if (!str_copys(out, ""))
		return 0;
	while (*h) {
		size_t hn = strcspn(h, ":");
		for (i = nfield; i-- > 0;) {
			const char *colon = memchr(start[i], ':', (size_t)(end[i] - start[i])), *v;
			size_t nn = (size_t)(colon - start[i]), j;
			int space = 0, text = 0;
			while (nn && (start[i][nn - 1] == ' ' || start[i][nn - 1] == '\t'))
				nn--;
			if (taken[i] || nn != hn)
				continue;
			for (j = 0; j < hn && (start[i][j] | 32) == (h[j] | 32); j++)
				;
			if (j < hn)
				continue;
			taken[i] = 1;
			for (j = 0; j < hn; j++)
				str_catc(out, (char)(h[j] | 32));
			str_catc(out, ':');
			for (v = colon + 1; v < end[i]; v++) {
				if (*v == '\r' || *v == '\n')
					continue;
				if (*v == ' ' || *v == '\t') {
					space = 1;
					continue;
				}
				if (space && text)
					str_catc(out, ' ');
				space = 0;
				text = 1;
				str_catc(out, *v);
			}
			str_cats(out, "\r\n");
			break;
		}
		h += hn + (h[hn] == ':');
	}
	return 1;
}

/* m signed, then checked as a verifier would: h is want_h, and what
 * dkim_signed_fields hashes is what the verifier hashes for m and h */
static int round_trip(const char *m, const char *want_h, struct str *h, struct str *hashed)
{
	struct str v = STR_INIT;
	int ok;

	str_truncate(hashed, 0);
	ok = fields(m, strlen(m), DKIM_FIELDS_MAX) == 0 && dkim_signed_fields(f, nf, h, hashed) == 0 &&
	     str_equals(h, want_h) && verifier_hashes(m, h->s, &v) && same(&v, hashed);
	str_free(&v);
	return ok;
}

/* the verifier's hash of m for h differs from hashed: an added field
 * breaks the signature */
static int breaks(const char *m, const struct str *h, const struct str *hashed)
{
	struct str v = STR_INIT;
	int ok = verifier_hashes(m, h->s, &v) && !same(&v, hashed);
	str_free(&v);
	return ok;
}

static void signed_fields(void)
{
	static const char m[] =
		"Received: by x\n"
		"From: A <a@b.test>\n"
		"To: one@x.test\n"
		"SUBJECT:  Hello \n"
		"X-Other: y\n"
		"List-Id: first\n"
		"To: two@x.test\n"
		"Date: Mon, 1 Jan 2024 00:00:00 +0000\n"
		"List-Id: second\n"
		"Received: by y\n"
		"\n"
		"body\n";
	/* both cases of the review: a Subject with a blank before its colon,
	 * no Reply-To */
	static const char obs[] =
		"From: A <a@b.test>\n"
		"Subject : x\n"
		"Date: Mon, 1 Jan 2024 00:00:00 +0000\n"
		"\n";
	struct str h = STR_INIT, hashed = STR_INIT;

	CHECK(FIELDS(m) == 0 && nf == 10, "the message splits");
	CHECK(dkim_signed_fields(f, nf, &h, &hashed) == 0, "dkim_signed_fields");
	CHECK(str_equals(&h, "from:from:reply-to:subject:subject:date:date:to:to:to:list-id:list-id"),
	      "h=: the list's order, each name as often as it occurs, the once-only ones present once more, "
	      "reply-to though absent");
	CHECK(str_equals(&hashed, "from:A <a@b.test>\r\n"
	                          "subject:Hello\r\n"
	                          "date:Mon, 1 Jan 2024 00:00:00 +0000\r\n"
	                          "to:two@x.test\r\n"
	                          "to:one@x.test\r\n"
	                          "list-id:second\r\n"
	                          "list-id:first\r\n"),
	      "hashed: instances from the bottom up; over-signing adds no bytes; X-Other and Received not signed");
	CHECK(FIELDS("From: a@b.test\n") == 0 && dkim_signed_fields(f, nf, &h, &hashed) == 0 &&
	      str_equals(&h, "from:from:reply-to:subject"), "h= is made anew, not appended to");
	str_truncate(&hashed, 0);
	CHECK(FIELDS("Received: x\nX-Y: z\n") == 0 && dkim_signed_fields(f, nf, &h, &hashed) == 0 &&
	      str_equals(&h, "from:reply-to:subject") && hashed.len == 0,
	      "nothing from the list: from, reply-to, subject named all the same, nothing hashed");
	str_truncate(&hashed, 0);
	CHECK(FIELDS("Content-ID: <x>\nResent-To: a\nResent-To: b\nList-Archive: c\nMIME-Version: 1.0\n") == 0 &&
	      dkim_signed_fields(f, nf, &h, &hashed) == 0 &&
	      str_equals(&h, "from:reply-to:subject:mime-version:mime-version:content-id:resent-to:resent-to:list-archive") &&
	      str_equals(&hashed, "mime-version:1.0\r\ncontent-id:<x>\r\nresent-to:b\r\nresent-to:a\r\nlist-archive:c\r\n"),
	      "fields that may repeat are not over-signed");
	str_truncate(&hashed, 0);
	CHECK(FIELDS("Sender: s@b.test\nFrom: a@b.test\nReply-To: r@b.test\nReply-To: q@b.test\n") == 0 &&
	      dkim_signed_fields(f, nf, &h, &hashed) == 0 &&
	      str_equals(&h, "from:from:reply-to:reply-to:reply-to:subject:sender:sender") &&
	      str_equals(&hashed, "from:a@b.test\r\nreply-to:q@b.test\r\nreply-to:r@b.test\r\nsender:s@b.test\r\n"),
	      "from, reply-to, subject first, each once more than it occurs (twice Reply-To: thrice)");

	CHECK(round_trip(m, "from:from:reply-to:subject:subject:date:date:to:to:to:list-id:list-id", &h, &hashed),
	      "round trip: what is hashed is what a verifier hashes");
	CHECK(round_trip(obs, "from:from:reply-to:subject:subject:date:date", &h, &hashed) &&
	      str_equals(&hashed, "from:A <a@b.test>\r\nsubject:x\r\ndate:Mon, 1 Jan 2024 00:00:00 +0000\r\n"),
	      "round trip of \"Subject : x\" and no Reply-To: the absent reply-to hashes nothing, subject:x");
	CHECK(breaks("Reply-To: evil@x.test\nFrom: A <a@b.test>\nSubject : x\nDate: Mon, 1 Jan 2024 00:00:00 +0000\n\n",
	             &h, &hashed), "a Reply-To added to it breaks the signature");
	CHECK(breaks("From: A <a@b.test>\nSubject : x\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nSubject: y\n\n", &h, &hashed),
	      "a second Subject added to it breaks the signature");
	CHECK(!breaks("From: A <a@b.test>\nSubject : x\nDate: Mon, 1 Jan 2024 00:00:00 +0000\n"
	              "Message-ID: <1@x.test>\nTo: undisclosed-recipients:;\nSender: s@x.test\nReceived: x\n\n", &h, &hashed),
	      "a Message-ID, To, Sender or Received added to it does not");
	CHECK(round_trip("Date: d\nFrom: a@b.test\n\n", "from:from:reply-to:subject:date:date", &h, &hashed) &&
	      breaks("Reply-To: r@b.test\nDate: d\nFrom: a@b.test\n\n", &h, &hashed) &&
	      breaks("Subject: s\nDate: d\nFrom: a@b.test\n\n", &h, &hashed),
	      "no Subject either: adding it, or a Reply-To, breaks the signature");
	str_free(&h);
	str_free(&hashed);
}

/* the field without its b= data: everything after the last "b=" up to
 * the closing LF */
static int strip_b(const struct str *sig, struct str *out)
{
	size_t i = sig->len;

	while (i >= 3 && !(sig->s[i - 2] == 'b' && sig->s[i - 1] == '=' && (sig->s[i - 3] == '\t' || sig->s[i - 3] == ' ')))
		i--;
	return i >= 3 && str_copyb(out, sig->s, i);
}

/* the h= tag's value in the field, unfolded */
static int h_of(const struct str *sig, struct str *out)
{
	const char *p = 0;
	size_t i;

	for (i = 1; i + 2 < sig->len; i++)
		if (sig->s[i] == 'h' && sig->s[i + 1] == '=' && (sig->s[i - 1] == ' ' || sig->s[i - 1] == '\t')) {
			p = sig->s + i + 2;
			break;
		}
	if (!p || !str_copyb(out, "", 0))
		return 0;
	for (; *p != ';'; p++)
		if (*p != '\n' && *p != '\t' && *p != ' ' && !str_catc(out, *p))
			return 0;
	return 1;
}

static void signature(void)
{
	static const char m[] =
		"From: Alice Example <alice@example.com>\n"
		"To: bob@example.org, carol@example.net\n"
		"Cc: dave@example.org\n"
		"Subject: hello\n"
		"Date: Mon, 1 Jan 2024 00:00:00 +0000\n"
		"Message-ID: <1@example.com>\n"
		"MIME-Version: 1.0\n"
		"Content-Type: text/plain; charset=utf-8\n"
		"Content-Transfer-Encoding: 8bit\n"
		"Reply-To: a@example.com\n"
		"In-Reply-To: <0@example.org>\n"
		"References: <0@example.org>\n"
		"List-Unsubscribe: <mailto:u@example.com>\n"
		"\n";
	static const char bh[] = "frcCV1k9oG9oKj3dpUqdJg1PxRT2RSN/XKdLCPjaYaY=";
	struct str h = STR_INIT, hashed = STR_INIT, sig = STR_INIT, want = STR_INIT, stripped = STR_INIT, hv = STR_INIT;
	char b64[700];
	size_t i, before;
	struct dkim_field g;

	CHECK(FIELDS(m) == 0 && dkim_signed_fields(f, nf, &h, &hashed) == 0 && h.len > 200, "a long h=");
	before = hashed.len;
	CHECK(dkim_sig_head(&sig, "rsa-sha256", "example.com", "sel2024", 1700000000, &h, bh) == 0, "dkim_sig_head");
	CHECK(str_starts(&sig, "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com;\n"
	                       "\ts=sel2024; t=1700000000; h=from:from:reply-to:reply-to:subject:subject:date:\n\tdate:to:"),
	      "the tags in order, folded at 78 characters, h= after a colon");
	CHECK(sig.len > 3 && memcmp(sig.s + sig.len - 4, "\n\tb=", 4) == 0, "ends with b= on a line of its own");
	CHECK(h_of(&sig, &hv) && str_equals(&hv, h.s), "h= unfolded is h");
	CHECK(dkim_sig_hashed(&sig, &hashed) == 0 && memcmp(hashed.s + before, "dkim-signature:v=1; a=rsa-sha256; ", 34) == 0 &&
	      hashed.s[hashed.len - 2] == 'b' && hashed.s[hashed.len - 1] == '=', "dkim_sig_hashed appends, ends at b=");
	for (i = 0; i < 683; i++)
		b64[i] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"[rnd() % 64];
	b64[683] = '=';
	b64[684] = 0; /* a 4096-bit RSA signature's length */
	CHECK(dkim_sig_finish(&sig, b64) == 0, "dkim_sig_finish");
	CHECK(lines_ok(&sig, 78), "every line at most 78 characters, continuation lines start with a tab, LF at the end");
	CHECK(strip_b(&sig, &stripped), "b= found in the finished field");
	g.name = g.raw = stripped.s;
	g.namelen = 14;
	g.rawlen = stripped.len;
	CHECK(dkim_canon_field(&g, &want) == 0 && want.len == hashed.len - before + 2 &&
	      memcmp(want.s, hashed.s + before, want.len - 2) == 0,
	      "the hashed form is the finished field's canonical form, without b='s data and CRLF");
	{
		/* b= data: chunks of 72 characters, the last shorter */
		const char *p = sig.s + stripped.len;
		size_t k = 0, ok = 1;
		while (*p != '\n') {
			const char *nl = strchr(p, '\n');
			size_t n = (size_t)(nl - p);
			ok &= memcmp(p, b64 + k, n) == 0 && (n == 72 || nl[1] == 0);
			k += n;
			p = nl;
			if (nl[1] == '\t')
				p += 2;
		}
		CHECK(ok && k == 684, "b= data folded every 72 characters");
	}

	/* a short one, whole */
	str_truncate(&sig, 0);
	str_truncate(&hashed, 0);
	CHECK(str_copys(&h, "from:from") && dkim_sig_head(&sig, "ed25519-sha256", "a.test", "s", 5, &h, bh) == 0 &&
	      dkim_sig_hashed(&sig, &hashed) == 0 && dkim_sig_finish(&sig, "QUJD") == 0, "a short signature");
	CHECK(str_equals(&sig, "DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed; d=a.test; s=s; t=5;\n"
	                       "\th=from:from; bh=frcCV1k9oG9oKj3dpUqdJg1PxRT2RSN/XKdLCPjaYaY=;\n"
	                       "\tb=QUJD\n"),
	      "a short signature, exactly");
	CHECK(str_equals(&hashed, "dkim-signature:v=1; a=ed25519-sha256; c=relaxed/relaxed; d=a.test; s=s; t=5; "
	                          "h=from:from; bh=frcCV1k9oG9oKj3dpUqdJg1PxRT2RSN/XKdLCPjaYaY=; b="),
	      "its hashed form, exactly");

	/* a domain too long for one line: the line is as long as it must be */
	{
		char dom[254];
		for (i = 0; i < 253; i++)
			dom[i] = i % 64 == 63 ? '.' : 'd';
		dom[253] = 0;
		str_truncate(&sig, 0);
		str_truncate(&hashed, 0);
		CHECK(dkim_sig_head(&sig, "rsa-sha256", dom, "s", 5, &h, bh) == 0 && dkim_sig_finish(&sig, "QUJD") == 0 &&
		      !lines_ok(&sig, 78) && lines_ok(&sig, 1 + 2 + 253 + 1), "a 253-byte d= on a line of its own");
	}
	str_free(&h);
	str_free(&hashed);
	str_free(&sig);
	str_free(&want);
	str_free(&stripped);
	str_free(&hv);
}

static void names(void)
{
	char s[300];
	size_t i;

	CHECK(name_ok("a") && name_ok("example.com") && name_ok("sel-2024_x") && name_ok("_domainkey.a.b"), "names taken");
	CHECK(name_ok("xn--jrg-sna.example") && name_ok("0.9") && name_ok("-a-"), "digits and hyphens anywhere");
	CHECK(!dkim_name_ok("", 0), "empty: refused");
	CHECK(!name_ok(".a") && !name_ok("a.") && !name_ok("a..b") && !name_ok("."), "empty labels: refused");
	CHECK(!name_ok("a b") && !name_ok("a@b") && !name_ok("a/b") && !name_ok("a;b") && !name_ok("a=b"),
	      "other characters: refused");
	CHECK(!name_ok("\xc3\xa9") && !dkim_name_ok("a\0b", 3), "8-bit and NUL: refused");
	CHECK(dkim_name_ok("ab", 1), "only n bytes count");
	memset(s, 'a', 64);
	CHECK(dkim_name_ok(s, 63) && !dkim_name_ok(s, 64), "a label of 63 bytes; 64 refused");
	for (i = 0; i < sizeof s; i++)
		s[i] = i % 50 == 49 ? '.' : 'a';
	CHECK(dkim_name_ok(s, 253) && !dkim_name_ok(s, 254), "253 bytes in all; 254 refused");
	s[252] = '.';
	CHECK(!dkim_name_ok(s, 253), "a trailing dot: refused");
}

int main(void)
{
	rfc_example();
	bodies();
	header();
	from_domain();
	signed_fields();
	signature();
	names();
	return check_done();
}
