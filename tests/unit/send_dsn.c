/* Bounce messages (src/postern-send/dsn.c) */
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
	str_free(&out);
	return check_done();
}
