/* postern-tlsrpt's report: the aggregation of record lines (policies by
 * TYPE and HASH, failure-details grouped, the 1,000 cap, lines without
 * their p. file, the 64-policy bound), the JSON compared byte for byte,
 * the mail around it (its fields, the base64 attachment decoded back),
 * and the choice of addresses among TXT records. */
#include <string.h>
#include "check.h"
#include "base64.h"
#include "fmt.h"
#include "fnv.h"
#include "postern-tlsrpt/aggregate.c"
#include "postern-tlsrpt/report.c"
#include "postern-tlsrpt/message.c"
#include "postern-tlsrpt/rua.c"

static const char *STS = "version: STSv1\nmode: enforce\nmx: mx1.example.com\nmx: *.example.net\nmax_age: 86400\n";
static const char *TLSA = "3 1 1 0f4b\n";
static char hsts[17], htlsa[17];
static int loads;

static void hash_of(const char *t, char out[17])
{
	fmt_hex64(out, fnv1a64(t, strlen(t)));
	out[16] = 0;
}

static int loader(void *ctx, const char *hash, struct str *text)
{
	(void)ctx;
	loads++;
	if (!strcmp(hash, hsts))
		return str_copys(text, STS);
	if (!strcmp(hash, htlsa))
		return str_copys(text, TLSA);
	if (!strcmp(hash, "00000000000000aa"))
		return str_copys(text, "mode: enforce\n"); /* does not hash to its name */
	return 0;
}

static void line(struct report *r, const char *s) { report_line(r, s, strlen(s)); }

static void line3(struct report *r, const char *a, const char *hash, const char *b)
{
	struct str l = STR_INIT;
	str_copys(&l, a);
	str_cats(&l, hash);
	str_cats(&l, b);
	report_line(r, l.s, l.len);
	str_free(&l);
}

static int contains(const struct str *s, const char *what)
{
	size_t n = strlen(what), i;
	for (i = 0; i + n <= s->len; i++)
		if (!memcmp(s->s + i, what, n))
			return 1;
	return 0;
}

int main(void)
{
	static struct report r;
	struct meta m;
	struct str json = STR_INIT, msg = STR_INIT, to = STR_INIT, want = STR_INIT;
	struct txt_records t;
	const char *why;
	size_t i, nto, https;
	unsigned char back[4096];
	size_t backlen;

	hash_of(STS, hsts);
	hash_of(TLSA, htlsa);
	CHECK(policy_text_ok(STS, strlen(STS), hsts) && !policy_text_ok(STS, strlen(STS), htlsa), "p. text hashed");
	CHECK(!policy_text_ok("a\n\nb\n", 5, "0000000000000000") && !policy_text_ok("a", 1, "0000000000000000") &&
	      !policy_text_ok("a\tb\n", 4, "0000000000000000") && !policy_text_ok("", 0, "0000000000000000"),
	      "p. text: no empty line, an LF at the end, printable only");
	want.len = 0;
	for (i = 0; i < 65; i++)
		str_cats(&want, "x\n");
	{
		char h[17];
		hash_of(want.s, h);
		CHECK(!policy_text_ok(want.s, want.len, h), "65 lines refused");
		want.len -= 2;
		want.s[want.len] = 0;
		hash_of(want.s, h);
		CHECK(policy_text_ok(want.s, want.len, h), "64 lines taken");
	}

	/* --- aggregation --- */
	report_init(&r, loader, 0);
	line3(&r, "1 sts ", hsts, " success 192.0.2.1 mx1.example.com 198.51.100.1 -");
	line3(&r, "1 sts ", hsts, " success 192.0.2.1 mx1.example.com 198.51.100.1 -");
	line3(&r, "1 sts ", hsts, " certificate-expired 192.0.2.1 mx1.example.com 198.51.100.1 expired");
	line3(&r, "1 sts ", hsts, " certificate-expired 192.0.2.1 mx1.example.com 198.51.100.1 expired");
	line3(&r, "1 sts ", hsts, " certificate-expired 192.0.2.1 mx1.example.com 198.51.100.2 expired");
	line3(&r, "1 tlsa ", htlsa, " validation-failure 2001:db8::1 mx2.example.com 2001:db8::2 no%20\"match\"");
	line3(&r, "1 tlsa ", htlsa, " success 2001:db8::1 mx3.example.com 2001:db8::3 -");
	line3(&r, "1 tlsa ", htlsa, " success 2001:db8::1 mx2.example.com 2001:db8::3 -");
	line(&r, "1 no-policy-found - sts-policy-fetch-error - - - connection%20refused");
	line(&r, "1 sts 00000000000000ab success 192.0.2.1 mx1.example.com 198.51.100.1 -");
	line(&r, "1 sts 00000000000000ab success 192.0.2.1 mx1.example.com 198.51.100.1 -");
	line(&r, "1 sts 00000000000000aa success 192.0.2.1 mx1.example.com 198.51.100.1 -");
	line(&r, "garbage");
	CHECK(r.lines == 13 && r.skipped == 4 && r.cut == 0, "13 lines, 4 skipped");
	CHECK(loads == 4, "each p. file loaded once, the missing and the mismatched one too");
	CHECK(r.np == 5 && r.p[0].ok == 2 && r.p[0].failed == 3 && r.p[0].nd == 2 && r.p[0].d[0].count == 2 &&
	      r.p[0].d[1].count == 1, "sts: 2 successes, failures grouped by receiving IP");
	CHECK(r.p[1].ok == 2 && r.p[1].failed == 1 && r.p[1].nmx == 2, "tlsa: its MX hosts gathered, once each");
	CHECK(r.p[2].type == TLSRPT_NOPOLICY && r.p[2].failed == 1 && !r.p[3].slot && !r.p[4].slot,
	      "no-policy-found; a missing and a mismatched p. file");
	CHECK(report_sessions(&r) == 9 && report_failures(&r) == 5, "sessions and failures counted");

	memset(&m, 0, sizeof m);
	m.org = "Example \"Inc.\"";
	m.contact = "postmaster@example.org";
	m.domain = "example.com";
	m.me = "mx.example.org";
	CHECK(!meta_day(&m, "20240230", 0) && !meta_day(&m, "2024013", 0) && !meta_day(&m, "19691231", 0),
	      "no such day");
	CHECK(meta_day(&m, "20240229", 0) && m.begin == 1709164800 && m.end == 1709164800 + 86399 &&
	      !strcmp(m.day, "2024-02-29") && !strcmp(m.report_id, "2024-02-29_example.com@mx.example.org"), "a leap day");
	CHECK(report_json(&json, &r, &m), "the JSON built");
	str_copys(&want, "{\"organization-name\":\"Example \\\"Inc.\\\"\",\"date-range\":{\"start-datetime\":"
	          "\"2024-02-29T00:00:00Z\",\"end-datetime\":\"2024-02-29T23:59:59Z\"},\"contact-info\":"
	          "\"postmaster@example.org\",\"report-id\":\"2024-02-29_example.com@mx.example.org\",\"policies\":["
	          "{\"policy\":{\"policy-type\":\"sts\",\"policy-string\":[\"version: STSv1\",\"mode: enforce\","
	          "\"mx: mx1.example.com\",\"mx: *.example.net\",\"max_age: 86400\"],\"policy-domain\":\"example.com\","
	          "\"mx-host\":[\"mx1.example.com\",\"*.example.net\"]},\"summary\":{\"total-successful-session-count\":2,"
	          "\"total-failure-session-count\":3},\"failure-details\":[{\"result-type\":\"certificate-expired\","
	          "\"sending-mta-ip\":\"192.0.2.1\",\"receiving-mx-hostname\":\"mx1.example.com\",\"receiving-ip\":"
	          "\"198.51.100.1\",\"failed-session-count\":2,\"failure-reason-code\":\"expired\"},{\"result-type\":"
	          "\"certificate-expired\",\"sending-mta-ip\":\"192.0.2.1\",\"receiving-mx-hostname\":\"mx1.example.com\","
	          "\"receiving-ip\":\"198.51.100.2\",\"failed-session-count\":1,\"failure-reason-code\":\"expired\"}]},"
	          "{\"policy\":{\"policy-type\":\"tlsa\",\"policy-string\":[\"3 1 1 0f4b\"],\"policy-domain\":"
	          "\"example.com\",\"mx-host\":[\"mx2.example.com\",\"mx3.example.com\"]},\"summary\":{"
	          "\"total-successful-session-count\":2,\"total-failure-session-count\":1},\"failure-details\":[{"
	          "\"result-type\":\"validation-failure\",\"sending-mta-ip\":\"2001:db8::1\",\"receiving-mx-hostname\":"
	          "\"mx2.example.com\",\"receiving-ip\":\"2001:db8::2\",\"failed-session-count\":1,\"failure-reason-code\":"
	          "\"no \\\"match\\\"\"}]},{\"policy\":{\"policy-type\":\"no-policy-found\",\"policy-domain\":"
	          "\"example.com\"},\"summary\":{\"total-successful-session-count\":0,\"total-failure-session-count\":1},"
	          "\"failure-details\":[{\"result-type\":\"sts-policy-fetch-error\",\"failed-session-count\":1,"
	          "\"failure-reason-code\":\"connection refused\"}]}]}\n");
	CHECK(json.len == want.len && !memcmp(json.s, want.s, want.len), "the JSON, byte for byte");
	if (json.len != want.len || memcmp(json.s, want.s, want.len))
		printf("# got %s\n", json.s);

	/* --- the mail --- */
	str_copys(&to, "a@example.com");
	str_catz(&to);
	str_cats(&to, "b@example.com");
	str_catz(&to);
	CHECK(report_message(&msg, &m, "tls@example.org", &to, 2, &r, &json, 1709251200, "0123abcd"), "the mail built");
	CHECK(str_starts(&msg, "From: tls@example.org\nTo: a@example.com,\n\tb@example.com\n"
	                       "Subject: Report Domain: example.com Submitter: mx.example.org\n"
	                       " Report-ID: <2024-02-29_example.com@mx.example.org>\nDate: Fri, 1 Mar 2024 00:00:00 +0000\n"
	                       "Message-ID: <0123abcd.tlsrpt@mx.example.org>\nTLS-Report-Domain: example.com\n"
	                       "TLS-Report-Submitter: mx.example.org\nAuto-Submitted: auto-generated\nMIME-Version: 1.0\n"
	                       "Content-Type: multipart/report; report-type=\"tlsrpt\";\n\tboundary=\"0123abcd\"\n\n"),
	      "the header section");
	CHECK(contains(&msg, "\n--0123abcd\nContent-Type: text/plain; charset=us-ascii\n\n") &&
	      contains(&msg, "9 sessions, of which 5 failed") &&
	      contains(&msg, "\n--0123abcd\nContent-Type: application/tlsrpt+json; name=\""
	                     "mx.example.org!example.com!1709164800!1709251199.json\"\nContent-Disposition: attachment; "
	                     "filename=\"mx.example.org!example.com!1709164800!1709251199.json\"\n"
	                     "Content-Transfer-Encoding: base64\n\n") &&
	      str_starts(&msg, "From") && msg.len > 14 && !memcmp(msg.s + msg.len - 14, "\n--0123abcd--\n", 14),
	      "the parts, the file name ME!DOMAIN!BEGIN!END.json, the closing boundary");
	{ /* the attachment decodes to the JSON */
		const char *b = strstr(msg.s, "base64\n\n") + 8, *e = strstr(b, "\n\n--");
		struct str joined = STR_INIT;
		size_t k, longest = 0, run = 0;
		for (k = 0; b + k < e; k++) {
			if (b[k] == '\n') {
				longest = run > longest ? run : longest;
				run = 0;
				continue;
			}
			run++;
			str_catc(&joined, b[k]);
		}
		CHECK(longest == 76 && b64_decode(joined.s, joined.len, back, sizeof back, &backlen) == 0 &&
		      backlen == json.len && !memcmp(back, json.s, backlen), "base64 lines of 76, decoded back to the JSON");
		str_free(&joined);
	}
	for (i = 0; i < msg.len; i++)
		if ((unsigned char)msg.s[i] >= 0x80 || (msg.s[i] < 0x20 && msg.s[i] != '\n' && msg.s[i] != '\t'))
			break;
	CHECK(i == msg.len, "the mail is 7-bit text");
	report_free(&r);

	/* --- the 1,000 cap and the 64 policies --- */
	report_init(&r, loader, 0);
	for (i = 0; i < 1500; i++) {
		want.len = 0;
		str_cats(&want, " validation-failure 192.0.2.1 mx1.example.com 198.51.100.1 r");
		str_catu(&want, i);
		line3(&r, "1 sts ", hsts, want.s);
	}
	line3(&r, "1 sts ", hsts, " validation-failure 192.0.2.1 mx1.example.com 198.51.100.1 r7");
	line3(&r, "1 sts ", hsts, " validation-failure 192.0.2.1 mx1.example.com 198.51.100.1 r1200");
	CHECK(r.p[0].nd == DETAILS_MAX && r.p[0].failed == 1502 && r.p[0].d[7].count == 2 &&
	      r.p[0].d[DETAILS_MAX - 1].count == 1, "1,000 groups; the rest in the summary only; old groups still counted");
	report_free(&r);
	report_init(&r, loader, 0);
	for (i = 0; i < POLICIES_MAX + 3; i++) {
		char h[17];
		fmt_hex64(h, 0x1000 + i);
		h[16] = 0;
		line3(&r, "1 tlsa ", h, " success 192.0.2.1 mx.example.com 198.51.100.1 -");
	}
	CHECK(r.np == POLICIES_MAX && r.cut == 3 && r.skipped == POLICIES_MAX, "64 policies, lines of more cut");
	report_free(&r);

	/* --- addresses from the TXT records --- */
	memset(&t, 0, sizeof t);
	str_copys(&t.t[0], "v=spf1 -all");
	str_copys(&t.t[1], "v=TLSRPTv1; rua=mailto:a@x.example,https://r.example/,mailto:a@x.example,mailto:b%40y.example");
	t.n = 2;
	CHECK(rua_pick(&t, &to, &nto, &https, &why) == RUA_FOUND && nto == 2 && https == 1 &&
	      to.len == 24 && !memcmp(to.s, "a@x.example\0b@y.example\0", 24), "mailto: kept once each, https counted");
	str_copys(&t.t[0], "v=TLSRPTv1; rua=mailto:c@x.example");
	CHECK(rua_pick(&t, &to, &nto, &https, &why) == RUA_NO_RECORD && !strcmp(why, "two records"), "two records: none");
	str_copys(&t.t[0], "v=TLSRPTv1; rua=https://r.example/");
	t.n = 1;
	CHECK(rua_pick(&t, &to, &nto, &https, &why) == RUA_NO_MAILTO && https == 1, "https only");
	str_copys(&t.t[0], "v=TLSRPTv1; rua=mailto:a%0A@x.example");
	CHECK(rua_pick(&t, &to, &nto, &https, &why) == RUA_NO_MAILTO, "a mailto: no address");
	str_copys(&t.t[0], "v=TLSRPTv1");
	CHECK(rua_pick(&t, &to, &nto, &https, &why) == RUA_NO_RECORD && !strcmp(why, "no rua= field"), "a broken record");
	str_copys(&t.t[0], "v=TLSRPTv1; rua=mailto:a@x.example");
	t.cut[0] = 1;
	CHECK(rua_pick(&t, &to, &nto, &https, &why) == RUA_NO_RECORD, "a record cut at its bound");
	t.cut[0] = 0;
	t.more = 1;
	CHECK(rua_pick(&t, &to, &nto, &https, &why) == RUA_NO_RECORD, "records past the bound: no telling");
	for (i = 0; i < TXT_KEEP; i++)
		str_free(&t.t[i]);
	str_free(&json);
	str_free(&msg);
	str_free(&to);
	str_free(&want);
	return check_done();
}
