/* src/lib/mtasts.c: MTA-STS's texts.  The TXT record (RFC 8461's own
 * example, blanks, extensions, what is no STS record and what is a
 * broken one), the policy (the RFC's example with CR LF, LF and no final
 * line end, max_age cut and its digits, 16 and 17 mx lines, the mx
 * patterns a host name may be and each refusal the header lists), the
 * wildcard and exact matching of MX hosts, the HTTP response (versions,
 * status, Content-Type, Content-Length, chunked, the bounds on header
 * and body, LF line ends, the framing refused), and the cache file
 * round-tripped and refused. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "mtasts.h"

/* a text and what the check of it is called */
struct case_ {
	const char *text, *name;
};

static char id[MTASTS_ID_MAX + 1];
static int txt(const char *s) { return mtasts_txt(s, strlen(s), id); }
#define TXTN(s) mtasts_txt(s, sizeof s - 1, id)

static struct mtasts_policy P;
static const char *why;
static int polb(const char *s, size_t n)
{
	why = 0;
	return mtasts_policy_parse(s, n, &P, &why);
}
static int pol(const char *s) { return polb(s, strlen(s)); }
#define POLN(s) polb(s, sizeof s - 1)
/* refused, with a reason and nothing half read left in P */
static int refused(const char *s)
{
	static const struct mtasts_policy zero;
	return pol(s) == -1 && why && why[0] && memcmp(&P, &zero, sizeof P) == 0;
}
static int match(const char *h) { return mtasts_mx_match(&P, h, strlen(h)); }

static struct str dec = STR_INIT;
static const char *body;
static size_t blen;
static int httpb(const char *s, size_t n)
{
	why = 0;
	return mtasts_http_response(s, n, &dec, &body, &blen, &why);
}
static int http(const char *s) { return httpb(s, strlen(s)); }
#define HTTPN(s) httpb(s, sizeof s - 1)
static int body_is(const char *s) { return body && blen == strlen(s) && memcmp(body, s, blen) == 0; }
static int http_refused(const char *s) { return http(s) == -1 && why && why[0] && !body && blen == 0; }

static void catn(struct str *s, char c, size_t n)
{
	while (n--)
		if (!str_catc(s, c))
			abort();
}

static void cats(struct str *s, const char *t)
{
	if (!str_cats(s, t))
		abort();
}

static void txt_records(void)
{
	struct str s = STR_INIT;

	CHECK(txt("v=STSv1; id=20160831085700Z;") == 1 && !strcmp(id, "20160831085700Z"), "RFC 8461 3.1's example");
	CHECK(txt("v=STSv1; id=20160831085700Z") == 1 && !strcmp(id, "20160831085700Z"), "no ';' at the end");
	CHECK(txt("v=STSv1;id=abc") == 1 && !strcmp(id, "abc"), "no blanks at all");
	CHECK(txt("v=STSv1 \t; \tid = abc\t ;  ") == 1 && !strcmp(id, "abc"), "blanks around ';' and '=' and at the end");
	CHECK(txt("v = STSv1; id=abc") == 1 && !strcmp(id, "abc"), "blanks around v's '='");
	CHECK(txt("v=STSv1; ext-name.x_y=some:value/+; id=X9; z=1;") == 1 && !strcmp(id, "X9"),
	      "extensions before and after the id ignored");
	CHECK(txt("v=STSv1; v=STSv2; id=a") == 1 && !strcmp(id, "a"), "a second v= is an extension");
	CHECK(txt("v=STSv1; id=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa") == 1 && strlen(id) == 32, "a 32-character id");

	CHECK(txt("v=STSv10; id=a") == 0 && id[0] == 0, "v=STSv10: no STS record");
	CHECK(txt("v=STSv2; id=a") == 0, "v=STSv2: no STS record");
	CHECK(txt("V=STSv1; id=a") == 0, "V=: no STS record (case-sensitive)");
	CHECK(txt("v=stsv1; id=a") == 0, "stsv1: no STS record (case-sensitive)");
	CHECK(txt(" v=STSv1; id=a") == 0, "a blank before v: no STS record");
	CHECK(txt("id=a; v=STSv1") == 0, "v not first: no STS record");
	CHECK(txt("v=STSv1 id=a") == 0, "no separator after the version: no STS record");
	CHECK(txt("v=spf1 -all") == 0, "an SPF record: none");
	CHECK(txt("") == 0, "empty: none");

	CHECK(txt("v=STSv1") == 0 && id[0] == 0, "the version alone, no ';': no STS record (RFC 8461 3.1 discards it)");
	CHECK(txt("v=STSv1;") == -1, "the version and ';': malformed");
	CHECK(txt("v=STSv1; ext=1") == -1, "no id: malformed");
	CHECK(txt("v=STSv1; ID=abc") == -1, "ID= is not id= (case-sensitive): no id");
	CHECK(txt("v=STSv1; id=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa") == -1 && id[0] == 0, "a 33-character id");
	CHECK(txt("v=STSv1; id=") == -1, "an empty id");
	CHECK(txt("v=STSv1; id=abc-def") == -1, "an id with a hyphen");
	CHECK(txt("v=STSv1; id=abc\xc3\xa9") == -1, "an id with an 8-bit byte");
	CHECK(txt("v=STSv1; id=a; id=b") == -1 && id[0] == 0, "two ids");
	CHECK(txt("v=STSv1; id=a; id=a") == -1, "the same id twice");
	CHECK(txt("v=STSv1;; id=a") == -1, "two separators in a row");
	CHECK(txt("v=STSv1; id=a;;") == -1, "two separators at the end");
	CHECK(txt("v=STSv1; id=a; foo") == -1, "a field without '='");
	CHECK(txt("v=STSv1; id=a; x=a=b") == -1, "an extension value with '='");
	CHECK(txt("v=STSv1; id=a; x=") == -1, "an empty extension value");
	CHECK(txt("v=STSv1; id=a; x=a b") == -1, "a blank inside a value");
	CHECK(txt("v=STSv1; id=a; _x=1") == -1, "an extension name starting with '_'");
	CHECK(txt("v=STSv1; id=a; aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=1") == 1 &&
	      txt("v=STSv1; id=a; aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=1") == -1, "an extension name of 32 bytes, not 33");
	CHECK(TXTN("v=STSv1; id=a\0b") == -1, "a NUL in the id");
	CHECK(TXTN("v=STSv1; id=ab; x=\0") == -1, "a NUL in an extension");
	CHECK(txt("v=STSv1; id=a\r\n") == -1, "a line end");
	/* a record much longer than any id: read through, no bound but n */
	cats(&s, "v=STSv1; id=a");
	catn(&s, 'b', 5000);
	CHECK(mtasts_txt(s.s, s.len, id) == -1 && id[0] == 0, "a 5001-character id");
	str_free(&s);
}

#define RFC_POLICY "version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\n" \
	"mx: backupmx.example.com\r\nmax_age: 604800\r\n"
#define RFC_POLICY_LF "version: STSv1\nmode: enforce\nmx: mail.example.com\nmx: *.example.net\n" \
	"mx: backupmx.example.com\nmax_age: 604800"

static int rfc_parsed(void)
{
	return P.mode == MTASTS_ENFORCE && P.max_age == 604800 && P.nmx == 3 && !strcmp(P.mx[0], "mail.example.com") &&
	       !strcmp(P.mx[1], "*.example.net") && !strcmp(P.mx[2], "backupmx.example.com");
}

/* a policy with mode enforce, max_age 1 and the mx line "mx: " m */
static int with_mx(const char *m)
{
	struct str s = STR_INIT;
	int r;

	cats(&s, "version: STSv1\nmode: enforce\nmax_age: 1\nmx: ");
	cats(&s, m);
	cats(&s, "\n");
	r = polb(s.s, s.len);
	str_free(&s);
	return r;
}

static void policies(void)
{
	struct str s = STR_INIT, name = STR_INIT;
	size_t i;

	CHECK(pol(RFC_POLICY) == 0 && rfc_parsed(), "RFC 8461 3.2's example, CR LF");
	CHECK(pol(RFC_POLICY_LF) == 0 && rfc_parsed(), "the same with LF and no final line end");
	CHECK(pol(RFC_POLICY "\r\n") == 0 && rfc_parsed(), "a trailing empty line");
	CHECK(pol("\nversion: STSv1\n\nmode: enforce\n \t\nmx: mail.example.com\n\r\nmax_age: 604800\n\n\n") == 0 &&
	      P.nmx == 1, "empty lines (and one of blanks) anywhere skipped");
	CHECK(pol("version :STSv1 \r\nmode\t:\tenforce\t\r\nmx:   mail.example.com  \nmax_age : 604800") == 0 &&
	      P.mode == MTASTS_ENFORCE && !strcmp(P.mx[0], "mail.example.com"), "blanks around the colon and at the end");
	CHECK(pol("max_age: 86400\nmx: mx.example.com\nmode: testing\nversion: STSv1\n") == 0 &&
	      P.mode == MTASTS_TESTING && P.max_age == 86400, "fields in any order; testing");
	CHECK(pol("version: STSv1\nmode: none\nmax_age: 86400\n") == 0 && P.mode == MTASTS_NONE && P.nmx == 0,
	      "mode none needs no mx");
	CHECK(pol("version: STSv1\nmode: none\nmx: a.example\nmax_age: 86400\n") == 0 && P.nmx == 1,
	      "mode none with an mx");
	CHECK(pol("version: STSv1\nmode: enforce\nmx: MX.Example.COM\nmx: *.EXAMPLE.net\nmax_age: 1") == 0 &&
	      !strcmp(P.mx[0], "mx.example.com") && !strcmp(P.mx[1], "*.example.net"), "mx patterns lower-cased");
	CHECK(with_mx("mail.example.com.") == 0 && !strcmp(P.mx[0], "mail.example.com"), "an mx's trailing dot dropped");
	CHECK(with_mx("*.example.net.") == 0 && !strcmp(P.mx[0], "*.example.net"), "a wildcard's trailing dot dropped");
	CHECK(with_mx("xn--bcher-kva.example") == 0 && with_mx("1.2.3.4") == 0 && with_mx("localhost") == 0 &&
	      with_mx("*.com") == 0, "A-labels, digits, one label, a wildcard on one label");
	CHECK(pol("version: STSv1\nmode: enforce\nfoo_bar-baz.1: whatever \xc3\xbc: x\nmx: a.example\nmax_age: 1\n"
	          "0: \nx:y") == 0 && P.nmx == 1, "unknown fields ignored, UTF-8 and empty values too");

	CHECK(pol("version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 31557600") == 0 && P.max_age == 31557600,
	      "max_age at the ceiling");
	CHECK(pol("version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 31557601") == 0 && P.max_age == 31557600,
	      "max_age one over the ceiling cut");
	CHECK(pol("version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 9999999999") == 0 && P.max_age == 31557600,
	      "max_age of 10 nines cut");
	CHECK(pol("version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 0000604800") == 0 && P.max_age == 604800,
	      "max_age with leading zeros, 10 digits");
	CHECK(pol("version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 0") == 0 && P.max_age == 0, "max_age 0");
	CHECK(refused("version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 00000604800"), "max_age of 11 digits");
	CHECK(refused("version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 99999999999999999999999"),
	      "max_age of 23 digits");
	CHECK(refused("version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 12a"), "max_age not digits");
	CHECK(refused("version: STSv1\nmode: enforce\nmx: a.example\nmax_age: -1"), "max_age negative");
	CHECK(refused("version: STSv1\nmode: enforce\nmx: a.example\nmax_age:"), "max_age empty");
	CHECK(refused("version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 1 2"), "max_age with a blank inside");

	cats(&s, "version: STSv1\nmode: enforce\nmax_age: 1\n");
	for (i = 0; i < 16; i++) {
		cats(&s, "mx: mx");
		if (!str_catc(&s, (char)('a' + i)))
			abort();
		cats(&s, ".example.com\n");
	}
	CHECK(polb(s.s, s.len) == 0 && P.nmx == 16 && !strcmp(P.mx[15], "mxp.example.com"), "16 mx lines");
	cats(&s, "mx: mxq.example.com\n");
	CHECK(polb(s.s, s.len) == -1 && why, "17 mx lines refused");
	s.len = 0;

	CHECK(refused("version: STSv1\nversion: STSv1\nmode: enforce\nmx: a.example\nmax_age: 1"), "version twice");
	CHECK(refused("version: STSv1\nmode: enforce\nmode: enforce\nmx: a.example\nmax_age: 1"), "mode twice");
	CHECK(refused("version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 1\nmax_age: 1"), "max_age twice");
	CHECK(refused("version: STSv1\nmode: enforce\nmx a.example\nmax_age: 1"), "a line without a colon");
	CHECK(refused("version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 1\njunk"), "a last line without a colon");
	CHECK(refused("version: STSv1\nmode: enforce\n mx: a.example\nmax_age: 1"), "a line starting with a blank");
	CHECK(refused("version: STSv1\nmode: enforce\n@x: 1\nmx: a.example\nmax_age: 1"), "a field name with '@'");
	CHECK(POLN("version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 1\nx: a\0b") == -1,
	      "a NUL in an unknown field");
	CHECK(POLN("version: STSv1\0\nmode: enforce\nmx: a.example\nmax_age: 1") == -1, "a NUL after a value");
	CHECK(refused("version: STSv1\nmode: enforce\nx: a\rb\nmx: a.example\nmax_age: 1"), "a CR inside a line");
	CHECK(refused("version: STSv1\nmode: enforce\nx: a\x7f\nmx: a.example\nmax_age: 1"), "DEL in a value");
	CHECK(refused("version: STSv1\nmode: enforce\nmx: m\xc3\xa9.example\nmax_age: 1"), "an 8-bit byte in an mx");
	CHECK(refused("version: STSv1\xc2\xa0\nmode: enforce\nmx: a.example\nmax_age: 1"), "an 8-bit byte in version");
	CHECK(refused("version: STSv2\nmode: enforce\nmx: a.example\nmax_age: 1"), "version STSv2");
	CHECK(refused("Version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 1"), "Version: (names are case-sensitive)");
	CHECK(refused("version: stsv1\nmode: enforce\nmx: a.example\nmax_age: 1"), "version stsv1");
	CHECK(refused("version: STSv1\nmode: Enforce\nmx: a.example\nmax_age: 1"), "mode Enforce (values too)");
	CHECK(refused("version: STSv1\nmode: reject\nmx: a.example\nmax_age: 1"), "an unknown mode");
	CHECK(refused("version: STSv1\nmode: enforce x\nmx: a.example\nmax_age: 1"), "a mode with more after it");
	CHECK(refused("mode: enforce\nmx: a.example\nmax_age: 1"), "no version");
	CHECK(refused("version: STSv1\nmx: a.example\nmax_age: 1"), "no mode");
	CHECK(refused("version: STSv1\nmode: enforce\nmx: a.example\n"), "no max_age");
	CHECK(refused("version: STSv1\nmode: enforce\nmax_age: 1"), "enforce without an mx");
	CHECK(refused("version: STSv1\nmode: testing\nmax_age: 1"), "testing without an mx");
	CHECK(refused(""), "an empty policy");
	CHECK(refused("\r\n\r\n"), "empty lines only");

	CHECK(with_mx("") == -1 && with_mx("*") == -1 && with_mx("*.") == -1 && with_mx(".") == -1,
	      "mx empty, a bare '*', '*.', '.'");
	CHECK(with_mx("a.*.example") == -1 && with_mx("*a.example") == -1 && with_mx("a*.example") == -1 &&
	      with_mx("*.*.example") == -1, "a wildcard anywhere but the whole leftmost label");
	CHECK(with_mx("-a.example") == -1 && with_mx("a-.example") == -1 && with_mx("a.example-") == -1 &&
	      with_mx("a-b.example") == 0, "a hyphen first or last in a label");
	CHECK(with_mx("a..example") == -1 && with_mx(".a.example") == -1 && with_mx("a.example..") == -1,
	      "an empty label");
	CHECK(with_mx("a_b.example") == -1 && with_mx("a b.example") == -1 && with_mx("a.example/x") == -1,
	      "a byte not LDH");
	catn(&name, 'a', 63);
	cats(&name, ".example");
	CHECK(with_mx(name.s) == 0, "a 63-byte label");
	name.len = 0;
	cats(&name, "b");
	catn(&name, 'a', 63);
	cats(&name, ".example");
	CHECK(with_mx(name.s) == -1, "a 64-byte label");
	/* 63 + 1 + 63 + 1 + 63 + 1 + 61 = 253 */
	name.len = 0;
	for (i = 0; i < 3; i++) {
		catn(&name, 'a', 63);
		cats(&name, ".");
	}
	catn(&name, 'b', 61);
	CHECK(with_mx(name.s) == 0 && strlen(P.mx[0]) == 253, "a 253-byte name");
	cats(&name, ".");
	CHECK(with_mx(name.s) == 0 && strlen(P.mx[0]) == 253, "a 253-byte name and its trailing dot");
	name.s[name.len - 1] = 'b';
	CHECK(with_mx(name.s) == -1, "a 254-byte name");

	catn(&s, '#', MTASTS_BODY_MAX);
	CHECK(polb(s.s, s.len) == -1 && why, "a body over MTASTS_BODY_MAX");
	str_free(&s);
	str_free(&name);
}

static void matching(void)
{
	if (pol(RFC_POLICY) != 0)
		abort();
	CHECK(match("mail.example.com") && match("backupmx.example.com"), "an exact name matches");
	CHECK(match("MAIL.Example.Com"), "in any case");
	CHECK(match("mail.example.com."), "with a trailing dot");
	CHECK(!match("mail.example.com.."), "not with two");
	CHECK(!match("xmail.example.com") && !match("mail.example.comx") && !match("ail.example.com"),
	      "not a name that only shares a part");
	CHECK(!match("example.com") && !match("a.mail.example.com"), "an exact pattern is not a wildcard");
	CHECK(match("mx1.example.net") && match("x.example.net"), "a wildcard matches one label");
	CHECK(match("MX1.EXAMPLE.NET."), "a wildcard in any case, with a trailing dot");
	CHECK(!match("a.b.example.net"), "a wildcard does not match two labels");
	CHECK(!match("example.net"), "a wildcard does not match the bare parent");
	CHECK(!match(".example.net"), "nor an empty label");
	CHECK(!match("mx1example.net") && !match("mx1.example.net.org"), "nor without the dot, nor in the middle");
	CHECK(!match("") && !match("."), "an empty host matches nothing");
	CHECK(with_mx("*.com") == 0 && match("example.com") && !match("com") && !match("a.example.com"),
	      "*.com: one label and com");
}

#define OKHEAD "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
#define CHUNKED "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"

/* the responses made by two_chunks and head_of */
static struct str made = STR_INIT;

/* a chunked response of two chunks, of a and b bytes */
static int two_chunks(size_t a, size_t b)
{
	char size[16];

	made.len = 0;
	cats(&made, CHUNKED);
	snprintf(size, sizeof size, "%zx\r\n", a);
	cats(&made, size);
	catn(&made, 'x', a);
	snprintf(size, sizeof size, "\r\n%zx\r\n", b);
	cats(&made, size);
	catn(&made, 'x', b);
	cats(&made, "\r\n0\r\n\r\n");
	return httpb(made.s, made.len);
}

/* a response whose head, blank line included, is n bytes: OKHEAD (43),
 * a field "X: " (3) long enough, its CR LF (2), the blank line (2) */
static int head_of(size_t n)
{
	made.len = 0;
	cats(&made, OKHEAD "Content-Length: 4\r\nX: ");
	catn(&made, 'h', n - 43 - 19 - 3 - 2 - 2);
	cats(&made, "\r\n\r\nbody");
	return httpb(made.s, made.len);
}

static void responses(void)
{
	struct str s = STR_INIT;
	const char *r;
	static const struct case_ bad_chunks[] = {
		{ "zz\r\nhello\r\n0\r\n\r\n", "a chunk size not hex" },
		{ "0x5\r\nhello\r\n0\r\n\r\n", "a chunk size 0x5" },
		{ "-5\r\nhello\r\n0\r\n\r\n", "a negative chunk size" },
		{ "\r\nhello\r\n0\r\n\r\n", "an empty chunk size" },
		{ "FFFFFFFFFFFFFFFFFFFFFFFF\r\nhello\r\n0\r\n\r\n", "a chunk size past any integer" },
		{ "4\r\nhello\r\n0\r\n\r\n", "a chunk longer than its size" },
		{ "9\r\nhello\r\n0\r\n\r\n", "a chunk shorter than its size" },
		{ "5\r\nhello\r\n", "no last chunk" },
		{ "5\r\nhello\r\n0\r\n", "no blank line after the last chunk" },
		{ "5\r\nhello\r\n0\r\n\r\nmore", "bytes after the last chunk" },
		{ "5\r\nhello\r\n0\r\n folded\r\n\r\n", "a folded trailer" },
		{ "5\x01\r\nhello\r\n0\r\n\r\n", "a control byte after a chunk size" },
	};
	size_t i;

	r = OKHEAD "Content-Length: 5\r\n\r\nhello";
	CHECK(http(r) == 0 && body_is("hello") && body == r + strlen(r) - 5, "HTTP/1.1 200, Content-Length: the body in buf");
	CHECK(http("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello") == 0 &&
	          body_is("hello"),
	      "HTTP/1.0 with a Content-Length");
	CHECK(http_refused("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nhello") &&
	          http_refused(OKHEAD "\r\nhello"),
	      "no Content-Length and not chunked: refused (a body cut short on the way could not be told)");
	CHECK(http("HTTP/1.1 200\r\nContent-Type: text/plain\r\nContent-Length: 1\r\n\r\nx") == 0 && body_is("x"),
	      "no reason phrase");
	CHECK(http("HTTP/1.1 200 \r\nContent-Type: text/plain\r\nContent-Length: 1\r\n\r\nx") == 0,
	      "an empty reason phrase");
	CHECK(http("HTTP/1.1 200 Fine\tand \xc3\xa9\r\ncontent-type: text/plain\r\ncontent-length: 1\r\n\r\nx") == 0,
	      "a reason with a tab and 8-bit bytes; a lower-case field name");
	CHECK(http("HTTP/1.1 200 OK\nContent-Type: text/plain\nContent-Length: 1\n\nx") == 0 && body_is("x"),
	      "LF-only header lines");
	CHECK(http("HTTP/1.1 200 OK\r\nContent-Type: text/plain\nContent-Length: 1\r\n\nx") == 0,
	      "CR LF and LF mixed");
	CHECK(http(OKHEAD "Content-Length: 0\r\n\r\n") == 0 && body && blen == 0, "an empty body");
	CHECK(http(OKHEAD "Content-Length: 0\r\n\r\n") == 0 && blen == 0, "Content-Length: 0");
	CHECK(http("HTTP/1.1 200 OK\r\nServer: a\r\nX-Empty:\r\nContent-Type:TEXT/PLAIN\r\nContent-Length:1\r\n\r\nx") == 0,
	      "TEXT/PLAIN, no blank after the colon, an empty field");
	CHECK(http("HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 1\r\n\r\nx") == 0,
	      "text/plain; charset=utf-8");
	CHECK(http("HTTP/1.1 200 OK\r\nContent-Type:   text/Plain ;charset=\"utf-8\"  \r\nContent-Length: 1\r\n\r\nx") == 0,
	      "blanks around text/plain and before ';'");

	CHECK(http_refused("HTTP/1.1 301 Moved Permanently\r\nLocation: https://x/\r\nContent-Type: text/plain\r\n\r\n") &&
	      strstr(why, "redirect"), "301 refused, as a redirect");
	CHECK(http_refused("HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\n\r\nno"), "404 refused");
	CHECK(http_refused("HTTP/1.1 204 No Content\r\nContent-Type: text/plain\r\n\r\n"), "204 refused");
	CHECK(http_refused("HTTP/1.1 2000 OK\r\nContent-Type: text/plain\r\n\r\nx"), "a four-digit status");
	CHECK(http_refused("HTTP/1.1 200OK\r\nContent-Type: text/plain\r\n\r\nx"), "no blank after the status");
	CHECK(http_refused("HTTP/1.2 200 OK\r\nContent-Type: text/plain\r\n\r\nx"), "HTTP/1.2");
	CHECK(http_refused("HTTP/2 200 OK\r\nContent-Type: text/plain\r\n\r\nx"), "HTTP/2");
	CHECK(http_refused("http/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nx"), "http/1.1 in lower case");
	CHECK(http_refused("\r\nHTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nx"), "an empty line first");
	CHECK(http_refused("HTTP/1.1 200 OK\r\n\r\nx"), "no Content-Type");
	CHECK(http_refused("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\nx"), "text/html");
	CHECK(http_refused("HTTP/1.1 200 OK\r\nContent-Type: text/plainx\r\n\r\nx"), "text/plainx");
	CHECK(http_refused("HTTP/1.1 200 OK\r\nContent-Type: text/plain, text/html\r\n\r\nx"), "text/plain, text/html");
	CHECK(http_refused("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Type: text/html\r\n\r\nx"),
	      "a second Content-Type, not text/plain");
	CHECK(http_refused(OKHEAD "Content-Length: 10\r\n\r\nhello"), "a body shorter than Content-Length");
	CHECK(http_refused(OKHEAD "Content-Length: 3\r\n\r\nhello"), "a body longer than Content-Length");
	CHECK(http(OKHEAD "Content-Length: 5\r\nContent-Length: 005\r\n\r\nhello") == 0 && body_is("hello"),
	      "two Content-Lengths of the same value");
	CHECK(http_refused(OKHEAD "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello"), "two different Content-Lengths");
	CHECK(http_refused(OKHEAD "Content-Length: 5, 5\r\n\r\nhello"), "a Content-Length list");
	CHECK(http_refused(OKHEAD "Content-Length: -5\r\n\r\nhello"), "a negative Content-Length");
	CHECK(http_refused(OKHEAD "Content-Length:\r\n\r\n"), "an empty Content-Length");
	CHECK(http_refused(OKHEAD "Content-Length: 99999999999999999999999999\r\n\r\nhello"),
	      "a Content-Length past any integer");
	CHECK(http_refused("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n folded\r\n\r\nx"), "obs-fold refused");
	CHECK(http_refused("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\tfolded\r\n\r\nx"), "obs-fold with a tab");
	CHECK(http_refused("HTTP/1.1 200 OK\r\nContent-Type : text/plain\r\n\r\nx"), "a blank before the colon");
	CHECK(http_refused("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nno colon\r\n\r\nx"), "a line without a colon");
	CHECK(http_refused("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n: x\r\n\r\nx"), "an empty field name");
	CHECK(HTTPN("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX: a\0b\r\n\r\nx") == -1 && !body,
	      "a NUL in a field");
	CHECK(http_refused("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX: a\rb\r\n\r\nx"), "a bare CR in a field");
	CHECK(http_refused("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"), "no blank line");
	CHECK(http_refused("HTTP/1.1 200 OK"), "the status line alone, unended");
	CHECK(http_refused(""), "nothing");

	r = CHUNKED "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
	CHECK(http(r) == 0 && body_is("hello world") && body == dec.s, "chunked: decoded into dec");
	CHECK(http("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\ntransfer-encoding: CHUNKED\r\n\r\n"
	           "A\r\n0123456789\r\na\r\nabcdefghij\r\n00\r\n\r\n") == 0 && blen == 20,
	      "chunked in any case, hex sizes in any case, 00 last");
	CHECK(http(CHUNKED "5;name=value\r\nhello\r\n1 ; a ; b=\"c\"\r\n!\r\n0;last\r\n\r\n") == 0 && body_is("hello!"),
	      "chunk extensions ignored");
	CHECK(http(CHUNKED "2\r\nab\r\n0\r\nX-Trailer: 1\r\nY: 2\r\n\r\n") == 0 && body_is("ab"), "trailers ignored");
	CHECK(http("HTTP/1.1 200 OK\nContent-Type: text/plain\nTransfer-Encoding: chunked\n\n2\nab\n0\n\n") == 0 &&
	      body_is("ab"), "chunked with LF line ends");
	CHECK(http(CHUNKED "0\r\n\r\n") == 0 && body && blen == 0, "chunked, empty");
	for (i = 0; i < sizeof bad_chunks / sizeof bad_chunks[0]; i++) {
		if (!str_copys(&s, CHUNKED) || !str_cats(&s, bad_chunks[i].text))
			abort();
		CHECK(http_refused(s.s), bad_chunks[i].name);
	}
	CHECK(http_refused("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n"
	                   "Content-Length: 16\r\n\r\n5\r\nhello\r\n0\r\n\r\n"), "chunked and Content-Length");
	CHECK(http_refused("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
	                   "5\r\nhello\r\n0\r\n\r\n"), "chunked in HTTP/1.0");
	CHECK(http_refused("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: gzip\r\n\r\nx"),
	      "Transfer-Encoding gzip");
	CHECK(http_refused("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
	                   "0\r\n\r\n"), "Transfer-Encoding gzip, chunked");
	CHECK(http_refused("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n"
	                   "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"), "Transfer-Encoding twice");

	/* the bounds: a body of 64 KB, a head of 16 KB */
	s.len = 0;
	cats(&s, OKHEAD "Content-Length: 65536\r\n\r\n");
	catn(&s, 'x', MTASTS_BODY_MAX);
	CHECK(httpb(s.s, s.len) == 0 && blen == MTASTS_BODY_MAX, "a body of 65536 bytes");
	cats(&s, "x");
	CHECK(httpb(s.s, s.len) == -1 && !body, "a body of 65537 bytes, its Content-Length saying 65536");
	s.len = 0;
	cats(&s, OKHEAD "Content-Length: 65537\r\n\r\n");
	catn(&s, 'x', MTASTS_BODY_MAX + 1);
	CHECK(httpb(s.s, s.len) == -1, "a body of 65537 bytes, its Content-Length saying so");
	CHECK(two_chunks(0x8000, 0x8000) == 0 && blen == MTASTS_BODY_MAX && body == dec.s,
	      "chunked: 65536 bytes in two chunks");
	CHECK(two_chunks(0x8000, 0x8001) == -1, "chunked: 65537 bytes in two chunks");
	CHECK(head_of(MTASTS_HEAD_MAX) == 0 && body_is("body") && body - made.s == MTASTS_HEAD_MAX,
	      "a head of 16384 bytes");
	CHECK(head_of(MTASTS_HEAD_MAX + 1) == -1 && why && strstr(why, "too long"), "a head of 16385 bytes");
	s.len = 0;
	cats(&s, CHUNKED "0\r\nX: ");
	catn(&s, 't', MTASTS_HEAD_MAX);
	cats(&s, "\r\n\r\n");
	CHECK(httpb(s.s, s.len) == -1, "trailers over 16384 bytes");
	str_free(&s);
}

static void caches(void)
{
	struct str out = STR_INIT;
	char cid[MTASTS_ID_MAX + 1];
	long long fetched;
	const char *b;
	size_t len;
	static const char expect[] = "postern-mtasts 1\nid 20160831085700Z\nfetched 1700000000\n\n" RFC_POLICY;
	static const char binary[] = "a\n\nb\0c\r\n\xff";
	static const struct case_ bad[] = {
		{ "postern-mtasts 2\nid a\nfetched 1\n\nx", "parse: another version" },
		{ "postern-mtasts 1 \nid a\nfetched 1\n\nx", "parse: a blank after the magic" },
		{ "Postern-mtasts 1\nid a\nfetched 1\n\nx", "parse: the magic in another case" },
		{ "postern-mtasts 1\r\nid a\r\nfetched 1\r\n\r\nx", "parse: CR LF" },
		{ "postern-mtasts 1\nid a-b\nfetched 1\n\nx", "parse: an id with a hyphen" },
		{ "postern-mtasts 1\nid \nfetched 1\n\nx", "parse: an empty id" },
		{ "postern-mtasts 1\nid aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\nfetched 1\n\nx", "parse: a 33-byte id" },
		{ "postern-mtasts 1\nid a\nfetched 12x\n\nx", "parse: a time not numeric" },
		{ "postern-mtasts 1\nid a\nfetched \n\nx", "parse: an empty time" },
		{ "postern-mtasts 1\nid a\nfetched -1\n\nx", "parse: a negative time" },
		{ "postern-mtasts 1\nid a\nfetched 01\n\nx", "parse: a time with a leading zero" },
		{ "postern-mtasts 1\nid a\nfetched 9223372036854775808\n\nx", "parse: a time past LLONG_MAX" },
		{ "postern-mtasts 1\nid a\nfetched 1\nx", "parse: no blank line" },
		{ "postern-mtasts 1\nid a\nfetched 1\n", "parse: no blank line, nothing after" },
		{ "postern-mtasts 1\nid a\nfetched 1", "parse: the time unended" },
		{ "postern-mtasts 1\nid a\nfetched1\n\nx", "parse: no blank after fetched" },
		{ "postern-mtasts 1\nfetched 1\nid a\n\nx", "parse: the lines in another order" },
		{ "postern-mtasts 1\n", "parse: the magic alone" },
		{ "", "parse: an empty file" },
	};
	size_t i;

	CHECK(mtasts_cache_format(&out, "20160831085700Z", 1700000000, RFC_POLICY, strlen(RFC_POLICY)) == 1 &&
	      out.len == sizeof expect - 1 && memcmp(out.s, expect, out.len) == 0, "the cache file's form");
	CHECK(mtasts_cache_parse(out.s, out.len, cid, &fetched, &b, &len) == 0 && !strcmp(cid, "20160831085700Z") &&
	      fetched == 1700000000 && len == strlen(RFC_POLICY) && b == out.s + out.len - len &&
	      memcmp(b, RFC_POLICY, len) == 0, "read back: id, time, the body in buf");
	CHECK(mtasts_cache_format(&out, "a", 0, "", 0) == 1 && mtasts_cache_parse(out.s, out.len, cid, &fetched, &b, &len) == 0 &&
	      !strcmp(cid, "a") && fetched == 0 && len == 0, "time 0, an empty body: round trip, and out replaced");
	CHECK(mtasts_cache_format(&out, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", LLONG_MAX, binary, sizeof binary - 1) == 1 &&
	      mtasts_cache_parse(out.s, out.len, cid, &fetched, &b, &len) == 0 && strlen(cid) == 32 &&
	      fetched == LLONG_MAX && len == sizeof binary - 1 && memcmp(b, binary, len) == 0,
	      "a 32-byte id, the largest time, a body with blank lines, NUL and 8-bit bytes: round trip");
	errno = 0;
	CHECK(mtasts_cache_format(&out, "a-b", 1, "x", 1) == 0 && errno == EINVAL, "format: an id with a hyphen refused");
	CHECK(mtasts_cache_format(&out, "", 1, "x", 1) == 0 && mtasts_cache_format(&out, 0, 1, "x", 1) == 0,
	      "format: an empty or null id refused");
	CHECK(mtasts_cache_format(&out, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 1, "x", 1) == 0, "format: a 33-byte id refused");
	CHECK(mtasts_cache_format(&out, "a", -1, "x", 1) == 0, "format: a negative time refused");
	CHECK(mtasts_cache_format(&out, "a", 1, "x", MTASTS_BODY_MAX + 1) == 0, "format: a body over 64 KB refused");

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		fetched = 5;
		CHECK(mtasts_cache_parse(bad[i].text, strlen(bad[i].text), cid, &fetched, &b, &len) == -1 && cid[0] == 0 &&
		      !b && len == 0 && fetched == 0, bad[i].name);
	}
	if (!str_copys(&out, "postern-mtasts 1\nid a\nfetched 1\n\n"))
		abort();
	catn(&out, 'x', MTASTS_BODY_MAX + 1);
	CHECK(mtasts_cache_parse(out.s, out.len, cid, &fetched, &b, &len) == -1, "parse: a body over 64 KB");
	str_free(&out);
}

int main(void)
{
	txt_records();
	policies();
	matching();
	responses();
	caches();
	str_free(&dec);
	str_free(&made);
	return check_done();
}
