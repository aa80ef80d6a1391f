/* Bounce messages (src/postern-send/dsn.c) */
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "postern-send/dsn.c"

static int st(const char *why, int expired, const char *want)
{
	char out[16];
	size_t n = dsn_status(why, strlen(why), expired, out);
	if (n != strlen(want) || strcmp(out, want) != 0) {
		printf("# %s -> %s\n", why, out);
		return 0;
	}
	return 1;
}

static int has(const struct str *s, const char *needle)
{
	return memmem(s->s, s->len, needle, strlen(needle)) != 0;
}

int main(void)
{
	struct str out = STR_INIT;
	struct dsn_fail f[2] = {
		{ "nobody@mx.example", 17, "550 5.1.1 unknown user", 22, 0 },
		{ "x@remote.example", 16, "message expired in queue; last error: " "remote delivery not yet available", 0, 1 },
	};
	struct dsn d;
	const char hdr[] = "Received: from x\nSubject: hello\n\nbody\n";

	f[1].why_len = strlen(f[1].why);
	CHECK(st("550 5.1.1 no such user", 0, "5.1.1"), "status from the reason");
	CHECK(st("452 4.2.2 mailbox full", 1, "5.2.2"), "class forced to 5");
	CHECK(st("user unknown", 0, "5.0.0"), "no code: 5.0.0");
	CHECK(st("timed out", 1, "5.4.7"), "no code, expired: 5.4.7");
	CHECK(st("version 1.2.3.4 failed", 0, "5.0.0"), "a dotted number is no code");
	CHECK(st("x 5.1234.1 y", 0, "5.0.0"), "more than 3 digits is no code");
	CHECK(st("4.7.1", 0, "5.7.1"), "code alone");
	CHECK(st("15.1.1", 0, "5.0.0"), "code must start a word");

	CHECK(dsn_header_len(hdr, sizeof hdr - 1, 1000) == 33, "header section ends at the blank line");
	CHECK(dsn_header_len(hdr, sizeof hdr - 1, 20) == 17, "cut at a line end");
	CHECK(dsn_header_len("a: b\nc: d", 9, 1000) == 5, "no body: whole lines only");

	d.me = "mx.example";
	d.qid = "1700000000.000001P1R0123456789abcdef";
	d.arrival = 1700000000;
	d.now = 1700000100;
	d.to = "sender@a.example";
	d.to_len = 16;
	d.f = f;
	d.nf = 2;
	d.headers = hdr;
	d.hlen = 33;
	d.delayed = 0;
	CHECK(dsn_build(&out, &d), "builds");
	CHECK(has(&out, "From: MAILER-DAEMON@mx.example\n"), "From MAILER-DAEMON");
	CHECK(has(&out, "To: sender@a.example\n"), "To the sender");
	CHECK(has(&out, "Content-Type: multipart/report; report-type=delivery-status;"), "multipart/report");
	CHECK(has(&out, "Content-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example\n"), "Reporting-MTA");
	CHECK(has(&out, "Arrival-Date: Tue, 14 Nov 2023 22:13:20 +0000\n"), "Arrival-Date");
	CHECK(has(&out, "Final-Recipient: rfc822; nobody@mx.example\nAction: failed\nStatus: 5.1.1\n"
	                "Diagnostic-Code: X-Postern; 550 5.1.1 unknown user\n"), "per-recipient fields");
	CHECK(has(&out, "Final-Recipient: rfc822; x@remote.example\nAction: failed\nStatus: 5.4.7\n"), "expired: 5.4.7");
	CHECK(has(&out, "Content-Type: text/rfc822-headers\n\nReceived: from x\nSubject: hello\n"), "headers quoted");
	CHECK(!has(&out, "\nbody\n"), "the body is never quoted");
	CHECK(has(&out, "<nobody@mx.example>:\n    550 5.1.1 unknown user\n"), "explanation quotes the reason");
	CHECK(out.len > 0 && out.s[out.len - 1] == '\n' && has(&out, "--\n"), "closing boundary");
	{
		struct dsn_fail evil = { "a@b.example", 11, "bad\nContent-Type: text/html\r\n\xff", 30, 0 };
		d.f = &evil;
		d.nf = 1;
		CHECK(dsn_build(&out, &d) && !has(&out, "\nContent-Type: text/html"), "a reason cannot add a header");
	}
	CHECK(!has(&out, "more recipients, not listed"), "a short report lists everyone");
	/* a report on 100,000 recipients still fits in DSN_MAX, the longest
	 * addresses and reasons and a header section as long as is quoted */
	{
		static char addr[1000], why[1000], me[254], headers[DSN_HEADERS_MAX];
		size_t n = 100000, k, listed;
		struct dsn_fail *many = calloc(n, sizeof *many);
		char more[64];
		int bounced;

		memset(addr, 'a', sizeof addr);
		memset(why, 'w', sizeof why);
		memset(me, 'm', sizeof me - 1);
		memset(headers, 'h', sizeof headers);
		for (k = 0; k < sizeof headers; k += 64)
			headers[k + 63] = '\n';
		for (k = 0; many && k < n; k++)
			many[k] = (struct dsn_fail){ addr, sizeof addr, why, sizeof why, 1 };
		d.me = me;
		d.to = addr;
		d.to_len = sizeof addr;
		d.headers = headers;
		d.hlen = sizeof headers;
		d.f = many;
		d.nf = n;
		for (bounced = 0; many && bounced < 2; bounced++) {
			d.delayed = !bounced;
			CHECK(dsn_build(&out, &d) && out.len <= DSN_MAX, bounced ? "the longest bounce fits in DSN_MAX" :
			                                                          "the longest warning fits in DSN_MAX");
			for (listed = 0, k = 0; k + 17 <= out.len; k++)
				listed += memcmp(out.s + k, "Final-Recipient: ", 17) == 0;
			snprintf(more, sizeof more, "... and %zu more recipients", n - listed);
			printf("# %zu bytes, %zu of %zu recipients listed\n", out.len, listed, n);
			CHECK(listed >= 10 && has(&out, more), "the first are listed, and how many more there are");
		}
		for (k = 0; many && k < n; k++)
			many[k] = (struct dsn_fail){ "someone.else@example.com", 24, "550 5.1.1 unknown user", 22, 0 };
		d.me = "mx.example";
		d.hlen = 2000;
		CHECK(many && dsn_build(&out, &d) && out.len <= DSN_MAX, "as they usually are: fits");
		for (listed = 0, k = 0; k + 17 <= out.len; k++)
			listed += memcmp(out.s + k, "Final-Recipient: ", 17) == 0;
		printf("# %zu bytes, %zu of %zu recipients listed\n", out.len, listed, n);
		CHECK(listed >= 100, "and at least 100 listed");
		free(many);
	}
	str_free(&out);
	return check_done();
}
