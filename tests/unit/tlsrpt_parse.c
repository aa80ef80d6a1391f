/* src/lib/tlsrpt_*.c and json.c: the record line of queue/tlsrpt (each
 * field's range, %XX, version, the 1,024-byte bound), the _smtp._tls TXT
 * record (RFC 8460's examples, blanks, extensions, what is none and what
 * is broken), its mailto: addresses, control/tlsrpt, and JSON strings. */
#include <string.h>
#include "check.h"
#include "tlsrpt.h"

static struct tlsrpt_rec R;
static const char *why;
static int rec(const char *s) { why = 0; return tlsrpt_rec_parse(s, strlen(s), &R, &why); }
static int bad(const char *s) { return rec(s) == -1 && why && why[0]; }

static const char *U[TLSRPT_RUA_MAX];
static size_t UL[TLSRPT_RUA_MAX], NU, MORE;
static int txt(const char *s) { why = 0; return tlsrpt_txt(s, strlen(s), U, UL, &NU, &MORE, &why); }
static int uri_is(size_t i, const char *s) { return i < NU && UL[i] == strlen(s) && !memcmp(U[i], s, UL[i]); }

static struct str A;
static int mailto(const char *s, int *https) { return tlsrpt_mailto(s, strlen(s), &A, https); }

static int json_is(const char *in, size_t n, const char *want)
{
	struct str o = STR_INIT;
	int ok = json_cat_string(&o, in, n) && o.len == strlen(want) && !memcmp(o.s, want, o.len);
	str_free(&o);
	return ok;
}

int main(void)
{
	struct str line = STR_INIT, lines = STR_INIT;
	struct tlsrpt_conf c = { STR_INIT, STR_INIT, STR_INIT, 0, "" };
	size_t i;
	int https;

	/* --- record lines --- */
	CHECK(rec("1 sts 0123456789abcdef success 192.0.2.1 mx.example.com 198.51.100.7 -") == 0 &&
	      R.type == TLSRPT_STS && !strcmp(R.hash, "0123456789abcdef") && R.result == 0 &&
	      !strcmp(R.sending_ip, "192.0.2.1") && !strcmp(R.mx_host, "mx.example.com") &&
	      !strcmp(R.mx_ip, "198.51.100.7") && R.reason_len == 0, "a success line");
	CHECK(rec("1 tlsa 0123456789abcdef validation-failure 2001:db8::1 mx.example.com 2001:db8::25 no%20match%25") == 0 &&
	      R.type == TLSRPT_TLSA && R.result == 5 && R.reason_len == 9 && !memcmp(R.reason, "no match%", 9),
	      "tlsa, IPv6, %20 and %25 decoded");
	CHECK(rec("1 no-policy-found - sts-policy-fetch-error - - - http%3a%2F%2Fx") == 0 && R.type == TLSRPT_NOPOLICY &&
	      R.hash[0] == 0 && R.result == 9 && !R.sending_ip[0] && !R.mx_host[0] && !R.mx_ip[0] &&
	      R.reason_len == 8 && !memcmp(R.reason, "http://x", 8), "no-policy-found, dashes, hex in either case");
	CHECK(rec("1 no-policy-found - dnssec-invalid 192.0.2.1 mx.example.com - tlsa%20lookup%20failed") == 0 && R.result == 7,
	      "dnssec-invalid");
	for (i = 1; i < TLSRPT_RESULTS; i++) {
		str_copys(&line, "1 sts 0123456789abcdef ");
		str_cats(&line, tlsrpt_results[i]);
		str_cats(&line, " 192.0.2.1 mx.example.com 192.0.2.2 x");
		if (rec(line.s) != 0 || R.result != i)
			break;
	}
	CHECK(i == TLSRPT_RESULTS, "every result type of RFC 8460 4.3 taken");
	CHECK(bad("2 sts 0123456789abcdef success 192.0.2.1 mx.example.com 198.51.100.7 -") && !strcmp(why, "not version 1"),
	      "version 2 skipped");
	CHECK(bad("10 sts 0123456789abcdef success 192.0.2.1 mx.example.com 198.51.100.7 -"), "version 10 skipped");
	CHECK(bad("1 sts 0123456789abcdef success 192.0.2.1 mx.example.com 198.51.100.7"), "seven fields");
	CHECK(bad("1 sts 0123456789abcdef success 192.0.2.1 mx.example.com 198.51.100.7 - x"), "nine fields");
	CHECK(bad("1 sts 0123456789abcdef success 192.0.2.1  mx.example.com 198.51.100.7 -"), "two spaces: an empty field");
	CHECK(bad(" 1 sts 0123456789abcdef success 192.0.2.1 mx.example.com 198.51.100.7 -"), "a leading space");
	CHECK(bad("1 sts 0123456789abcdef success 192.0.2.1 mx.example.com 198.51.100.7 - "), "a trailing space");
	CHECK(bad("1 sts 0123456789abcdef success 192.0.2.1 mx.example.com 198.51.100.7 -\r"), "a CR");
	CHECK(bad("1 STS 0123456789abcdef success 192.0.2.1 mx.example.com 198.51.100.7 -"), "type upper case");
	CHECK(bad("1 dane 0123456789abcdef success 192.0.2.1 mx.example.com 198.51.100.7 -"), "unknown type");
	CHECK(bad("1 sts 0123456789ABCDEF success 192.0.2.1 mx.example.com 198.51.100.7 -"), "hash upper case");
	CHECK(bad("1 sts 0123456789abcde success 192.0.2.1 mx.example.com 198.51.100.7 -"), "hash of 15 digits");
	CHECK(bad("1 sts 0123456789abcdef0 success 192.0.2.1 mx.example.com 198.51.100.7 -"), "hash of 17 digits");
	CHECK(bad("1 sts - success 192.0.2.1 mx.example.com 198.51.100.7 -"), "sts without a hash");
	CHECK(bad("1 no-policy-found 0123456789abcdef sts-policy-invalid - - - -"), "no-policy-found with a hash");
	CHECK(bad("1 no-policy-found - success - - - -"), "no-policy-found cannot succeed");
	CHECK(bad("1 sts 0123456789abcdef Success 192.0.2.1 mx.example.com 198.51.100.7 -"), "result upper case");
	CHECK(bad("1 sts 0123456789abcdef sts-policy-fetch 192.0.2.1 mx.example.com 198.51.100.7 -"), "unknown result");
	CHECK(bad("1 sts 0123456789abcdef success 192.0.2.256 mx.example.com 198.51.100.7 -"), "bad IPv4");
	CHECK(bad("1 sts 0123456789abcdef success 192.0.2.1 mx.example.com 2001:db8:::1 -"), "bad IPv6");
	CHECK(bad("1 sts 0123456789abcdef success 1.2.3.4%0a mx.example.com 198.51.100.7 -"), "address with junk");
	CHECK(bad("1 sts 0123456789abcdef success 192.0.2.1 MX.example.com 198.51.100.7 -"), "MX host upper case");
	CHECK(bad("1 sts 0123456789abcdef success 192.0.2.1 mx..example.com 198.51.100.7 -"), "MX host empty label");
	CHECK(bad("1 sts 0123456789abcdef success 192.0.2.1 mx.example.com. 198.51.100.7 -"), "MX host trailing dot");
	CHECK(bad("1 sts 0123456789abcdef success 192.0.2.1 mx_1.example.com 198.51.100.7 -"), "MX host underscore");
	str_copys(&line, "1 sts 0123456789abcdef success 192.0.2.1 ");
	for (i = 0; i < 64; i++)
		str_catc(&line, 'a');
	str_cats(&line, ".example 198.51.100.7 -");
	CHECK(bad(line.s), "MX host label of 64");
	CHECK(bad("1 sts 0123456789abcdef success 192.0.2.1 mx.example.com 198.51.100.7 why"), "success with a reason");
	CHECK(bad("1 sts 0123456789abcdef certificate-expired 192.0.2.1 mx.example.com 198.51.100.7 a%2"), "cut %XX");
	CHECK(bad("1 sts 0123456789abcdef certificate-expired 192.0.2.1 mx.example.com 198.51.100.7 a%zz"), "bad %XX");
	CHECK(bad("1 sts 0123456789abcdef certificate-expired 192.0.2.1 mx.example.com 198.51.100.7 a%00b"), "%00 refused");
	CHECK(bad("1 sts 0123456789abcdef certificate-expired 192.0.2.1 mx.example.com 198.51.100.7 a\x80"), "raw 0x80");
	CHECK(bad("1 sts 0123456789abcdef certificate-expired 192.0.2.1 mx.example.com 198.51.100.7 a\tb"), "raw tab");
	CHECK(rec("1 sts 0123456789abcdef certificate-expired 192.0.2.1 mx.example.com 198.51.100.7 %ff%0A") == 0 &&
	      R.reason_len == 2 && (unsigned char)R.reason[0] == 0xff && R.reason[1] == '\n', "%ff and %0A decoded");
	str_copys(&line, "1 sts 0123456789abcdef certificate-expired 192.0.2.1 mx.example.com 198.51.100.7 ");
	for (i = 0; i < 200; i++)
		str_catc(&line, 'r');
	CHECK(rec(line.s) == 0 && R.reason_len == 200, "reason of 200");
	str_catc(&line, 'r');
	CHECK(bad(line.s), "reason of 201");
	/* the bound on the whole line: 1,024 bytes with its LF */
	str_copys(&line, "1 sts 0123456789abcdef certificate-expired 192.0.2.1 ");
	for (i = 0; i < 3; i++) {
		size_t k;
		for (k = 0; k < 63; k++)
			str_catc(&line, 'a' + (char)i);
		str_catc(&line, '.');
	}
	for (i = 0; i < 61; i++)
		str_catc(&line, 'z');
	str_cats(&line, " 2001:db8:1:2:3:4:5:6 ");
	for (i = 0; i < 67; i++)
		str_cats(&line, "%41");
	CHECK(rec(line.s) == -1, "a 200-byte reason at most, however the rest is");
	line.len -= 3 * 67;
	while (line.len < TLSRPT_LINE_MAX - 1)
		str_catc(&line, 'q');
	line.s[line.len] = 0;
	CHECK(line.len == 1023 && rec(line.s) == -1 && !strcmp(why, "bad reason"), "1,023 bytes: read, the reason too long");
	CHECK(tlsrpt_rec_parse(line.s, 1024, &R, &why) == -1 && !strcmp(why, "line too long"), "1,024 bytes without LF: too long");

	/* --- hosts and addresses --- */
	CHECK(tlsrpt_host_ok("a", 1, 1) && !tlsrpt_host_ok("", 0, 1) && !tlsrpt_host_ok(".a", 2, 1) &&
	      tlsrpt_host_ok("A.b", 3, 0) && !tlsrpt_host_ok("A.b", 3, 1), "host names");
	CHECK(tlsrpt_addr_ok("tls-reports@example.com", 23) && tlsrpt_addr_ok("a.b+c@x.y", 9), "addresses");
	CHECK(!tlsrpt_addr_ok("a..b@x.y", 8) && !tlsrpt_addr_ok(".a@x.y", 6) && !tlsrpt_addr_ok("a.@x.y", 6) &&
	      !tlsrpt_addr_ok("@x.y", 4) && !tlsrpt_addr_ok("a@", 2) && !tlsrpt_addr_ok("a b@x.y", 7) &&
	      !tlsrpt_addr_ok("a\n@x.y", 6) && !tlsrpt_addr_ok("a@[1.2.3.4]", 11) && !tlsrpt_addr_ok("a@b@c", 5) &&
	      !tlsrpt_addr_ok("<a>@x.y", 7) && !tlsrpt_addr_ok("a,b@x.y", 7) && !tlsrpt_addr_ok("\"a\"@x.y", 7),
	      "addresses refused: dots, blanks, line ends, literals, specials, quotes");

	/* --- TXT records (RFC 8460 3) --- */
	CHECK(txt("v=TLSRPTv1; rua=mailto:reports@example.com") == 1 && NU == 1 && uri_is(0, "mailto:reports@example.com"),
	      "RFC 8460 3.1's mailto example");
	CHECK(txt("v=TLSRPTv1; rua=https://reporting.example.com/v1/tlsrpt") == 1 &&
	      uri_is(0, "https://reporting.example.com/v1/tlsrpt"), "RFC 8460 3.1's https example");
	CHECK(txt("v=TLSRPTv1;rua=mailto:a@x.y,https://r.x.y/v1") == 1 && NU == 2 && uri_is(1, "https://r.x.y/v1"),
	      "no blanks, two URIs");
	CHECK(txt("v=TLSRPTv1 ;\trua=mailto:a@x.y ,  mailto:b@x.y ; ") == 1 && NU == 2 && uri_is(1, "mailto:b@x.y"),
	      "blanks around ';' and ',', a ';' at the end");
	CHECK(txt("v=TLSRPTv1; ext=value; rua=mailto:a@x.y; x.y_z-1=!%:<>") == 1 && NU == 1, "extension fields ignored");
	CHECK(txt("v=TLSRPTv1; rua=mailto:a@x.y; rua=mailto:b@x.y") == 1 && NU == 2, "two rua= fields");
	CHECK(txt("v=TLSRPTv1; rua=m:1,m:2,m:3,m:4,m:5,m:6") == 1 && NU == 4 && MORE == 2, "four URIs kept, the rest counted");
	CHECK(txt("v=spf1 -all") == 0 && txt("v=TLSRPTv10; rua=mailto:a@x.y") == 0 && txt("v=tlsrptv1; rua=m:a") == 0 &&
	      txt(" v=TLSRPTv1; rua=m:a") == 0 && txt("") == 0, "no TLSRPT record: other versions, case, a leading blank");
	CHECK(txt("v=TLSRPTv1") == -1 && !strcmp(why, "no rua= field"), "no rua=");
	CHECK(txt("v=TLSRPTv1; ext=1") == -1, "extensions but no rua=");
	CHECK(txt("v=TLSRPTv1 rua=mailto:a@x.y") == -1, "no ';'");
	CHECK(txt("v=TLSRPTv1; rua=") == -1 && txt("v=TLSRPTv1; rua=reports@x.y") == -1 && txt("v=TLSRPTv1; rua=m:a,") == -1,
	      "rua= without a URI, one without a scheme, a trailing comma");
	CHECK(txt("v=TLSRPTv1; rua=mailto:a@x.y; ext=") == -1 && txt("v=TLSRPTv1; rua=mailto:a@x.y; _x=1") == -1 &&
	      txt("v=TLSRPTv1; rua=mailto:a@x.y; e=a=b") == -1, "bad extensions: empty value, bad name, '=' in a value");
	CHECK(txt("v=TLSRPTv1; rua=mailto:a@x.y; abcdefghijabcdefghijabcdefghij12=1") == 1 &&
	      txt("v=TLSRPTv1; rua=mailto:a@x.y; abcdefghijabcdefghijabcdefghij123=1") == -1, "extension names of 32, 33");

	/* --- mailto: --- */
	CHECK(mailto("mailto:reports@example.com", &https) == 1 && str_equals(&A, "reports@example.com") && !https, "mailto");
	CHECK(mailto("MAILTO:tls%2Dreports@example.com?subject=x", &https) == 1 && str_equals(&A, "tls-reports@example.com"),
	      "scheme in any case, %2D decoded, the query left off");
	CHECK(mailto("https://r.example/v1", &https) == 0 && https, "https");
	CHECK(mailto("ftp://r.example/v1", &https) == 0 && !https, "another scheme");
	CHECK(mailto("mailto:a%2Cb@example.com", &https) == -1 && mailto("mailto:a%0A@example.com", &https) == -1 &&
	      mailto("mailto:a@example.com%0ABcc:x", &https) == -1 && mailto("mailto:a%4@x.y", &https) == -1 &&
	      mailto("mailto:", &https) == -1 && mailto("mailto:a@b,c@d", &https) == -1, "mailto: without one sendable address");

	/* --- control/tlsrpt --- */
	check_list(&lines, "organization=Example Inc.", "contact=postmaster@example.com");
	CHECK(tlsrpt_conf(&lines, "mx.example.com", &c) == 1 && str_equals(&c.org, "Example Inc.") &&
	      str_equals(&c.contact, "postmaster@example.com") && str_equals(&c.from, "postmaster@mx.example.com") && !c.bad,
	      "organization and contact; from by default");
	check_list(&lines, "organization=Example", "from=tls@example.com");
	CHECK(tlsrpt_conf(&lines, "mx.example.com", &c) == 1 && str_equals(&c.contact, "tls@example.com"),
	      "contact defaults to from");
	check_list(&lines, "contact=a@b.c", 0);
	CHECK(tlsrpt_conf(&lines, "m", &c) == 0, "no organization: off");
	check_list(&lines, "organization=Ex\x01", "contact=a@b.c");
	CHECK(tlsrpt_conf(&lines, "m", &c) == 0 && c.bad == 1 && !strcmp(c.bad_name, "organization"), "a bad organization: off");
	check_list(&lines, "organization=Ex", "contact=a b");
	CHECK(tlsrpt_conf(&lines, "m.x", &c) == 1 && c.bad == 1 && str_equals(&c.contact, "postmaster@m.x"),
	      "a bad contact left out");
	check_list(&lines, "organization=Ex", "colour=blue");
	CHECK(tlsrpt_conf(&lines, "m.x", &c) == 1 && c.bad == 1 && !strcmp(c.bad_name, "colour"), "an unknown line");

	/* --- JSON strings --- */
	CHECK(json_is("abc", 3, "\"abc\""), "plain");
	CHECK(json_is("a\"b\\c", 5, "\"a\\\"b\\\\c\""), "quote and backslash");
	CHECK(json_is("\n\x01\x1f\x7f", 4, "\"\\u000a\\u0001\\u001f\\u007f\""), "control bytes and DEL");
	CHECK(json_is("\0", 1, "\"\\u0000\""), "NUL");
	CHECK(json_is("\xc3\xa9\xff", 3, "\"\\u00c3\\u00a9\\u00ff\""), "bytes from 0x80");
	CHECK(json_is("</script>", 9, "\"</script>\""), "'/' and '<' as they are");
	str_free(&line);
	str_free(&lines);
	str_free(&A);
	str_free(&c.org);
	str_free(&c.contact);
	str_free(&c.from);
	return check_done();
}
