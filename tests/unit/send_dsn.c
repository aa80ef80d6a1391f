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

static size_t count(const struct str *s, const char *needle)
{
	size_t n = 0, k, nl = strlen(needle);
	for (k = 0; k + nl <= s->len; k++)
		n += memcmp(s->s + k, needle, nl) == 0;
	return n;
}

static int xt(const char *in, const char *want)
{
	struct str o = STR_INIT;
	int ok = dsn_cat_xtext(&o, in, strlen(in)) && o.len == strlen(want) && memcmp(o.s, want, o.len) == 0;
	if (!ok)
		printf("# %s -> %.*s\n", in, (int)o.len, o.s ? o.s : "");
	str_free(&o);
	return ok;
}

/* The DSN parts of a report (doc/dsn.md): ENVID, ORCPT, successes, RET=FULL. */
static void dsn_params(struct dsn d)
{
	struct str out = STR_INIT;
	struct dsn_rcpt ok[3] = {
		{ "pts1@mx.example", 15, "delivered to Maildir", 20, 0, DSN_DELIVERED, "rfc822;Old+2BBox@mx.example", 27 },
		{ "far@remote.example", 18, "250 2.0.0 queued as 12345", 25, 0, DSN_RELAYED, 0, 0 },
		{ "no@mx.example", 13, "550 5.1.1 unknown user", 22, 0, DSN_FAILED, "rfc822;no@mx.example", 20 },
	};
	const char whole[] = "Subject: hi\n\nthe body, returned\n";
	const char eight[] = "Subject: caf\xc3\xa9\n\nna\xc3\xafve body\n";

	CHECK(xt("abc+2Bdef+3D", "abc+def="), "xtext: decoded");
	CHECK(xt("envid+20one", "envid one"), "xtext: a space is printable");
	CHECK(xt("x+00y", "x+00y"), "xtext: a NUL keeps the xtext");
	CHECK(xt("caf+C3+A9", "caf+C3+A9"), "xtext: UTF-8 keeps the xtext");
	CHECK(xt("a+0Db", "a+0Db"), "xtext: a CR keeps the xtext (no header line can break)");

	/* success only */
	d.r = ok;
	d.nr = 2;
	d.envid = "QQ+2B314";
	d.envid_len = 8;
	CHECK(dsn_build(&out, &d), "success report builds");
	CHECK(has(&out, "\nSubject: Successful Mail Delivery Report\n"), "success only: its subject");
	CHECK(!has(&out, "Undelivered") && !has(&out, "sorry"), "success only: no word of a failure");
	CHECK(has(&out, "Your message was delivered to the recipients below"), "success only: its text");
	CHECK(has(&out, "Content-Type: message/delivery-status\n\nOriginal-Envelope-Id: QQ+314\nReporting-MTA: dns; "),
	      "Original-Envelope-Id decoded, first of the per-message fields");
	CHECK(has(&out, "\nOriginal-Recipient: rfc822;Old+Box@mx.example\nFinal-Recipient: rfc822; pts1@mx.example\n"
	                "Action: delivered\nStatus: 2.0.0\nDiagnostic-Code: X-Postern; delivered to Maildir\n"),
	      "delivered: Original-Recipient decoded before Final-Recipient, Action delivered, 2.0.0, the text");
	CHECK(has(&out, "\nFinal-Recipient: rfc822; far@remote.example\nAction: relayed\nStatus: 2.0.0\n"
	                "Diagnostic-Code: X-Postern; 250 2.0.0 queued as 12345\n"),
	      "relayed: Action relayed, no Original-Recipient when none was given");
	CHECK(has(&out, "<far@remote.example>:\n    relayed to a server that does not report"), "relayed: said so in words");
	CHECK(count(&out, "Original-Recipient:") == 1, "Original-Recipient only where ORCPT was given");
	CHECK(has(&out, "Content-Type: text/rfc822-headers\n"), "success: the header section");

	/* failures and successes together */
	ok[2].orcpt = "rfc822;n+00o@mx.example";
	ok[2].orcpt_len = 23;
	{
		struct dsn_rcpt mix[3] = { ok[2], ok[0], ok[1] };
		d.r = mix;
		d.nr = 3;
		d.envid = "caf+C3+A9";
		d.envid_len = 9;
		CHECK(dsn_build(&out, &d), "mixed report builds");
		CHECK(has(&out, "\nSubject: Undelivered Mail Returned to Sender\n"), "mixed: the bounce's subject");
		CHECK(has(&out, "Action: failed") && has(&out, "Action: delivered") && has(&out, "Action: relayed"),
		      "mixed: all three actions");
		CHECK(count(&out, "Your message was delivered to the recipients below") == 1 &&
		      memmem(out.s, out.len, "<no@mx.example>", 15) <
		      memmem(out.s, out.len, "Your message was delivered", 26),
		      "mixed: the successes under a line of their own after the failure");
		CHECK(has(&out, "Original-Envelope-Id: caf+C3+A9\n"), "an ENVID that is not ASCII is kept as xtext");
		CHECK(has(&out, "Original-Recipient: rfc822;n+00o@mx.example\nFinal-Recipient: rfc822; no@mx.example\n"),
		      "an ORCPT with a NUL is kept as xtext");
	}
	/* RET=FULL */
	d.r = ok + 2;
	d.nr = 1;
	d.envid_len = 0;
	d.headers = whole;
	d.hlen = sizeof whole - 1;
	d.full = 1;
	CHECK(dsn_build(&out, &d), "RET=FULL report builds");
	CHECK(has(&out, "\nContent-Type: message/rfc822\n\nSubject: hi\n\nthe body, returned\n\n--postern-dsn-"),
	      "RET=FULL: the whole message as message/rfc822");
	CHECK(!has(&out, "text/rfc822-headers") && !has(&out, "Content-Transfer-Encoding"), "RET=FULL: not the headers, 7bit");
	CHECK(!has(&out, "Original-Envelope-Id"), "no ENVID: no Original-Envelope-Id");
	d.headers = eight;
	d.hlen = sizeof eight - 1;
	CHECK(dsn_build(&out, &d) && has(&out, "Content-Type: message/rfc822\nContent-Transfer-Encoding: 8bit\n\n"),
	      "RET=FULL: 8bit said when the message has 8-bit bytes");
	CHECK(has(&out, "MIME-Version: 1.0\nContent-Transfer-Encoding: 8bit\nContent-Type: multipart/report"),
	      "and by the multipart that holds it");
	d.full = 0;
	d.too_large = 1;
	d.headers = whole;
	d.hlen = 13;
	CHECK(dsn_build(&out, &d) && has(&out, "too large to be returned in full") &&
	      has(&out, "Content-Type: text/rfc822-headers\n\nSubject: hi\n\n\n--postern-dsn-"), "RET=FULL too large: the headers, and why");
	d.too_large = 0;
	d.delayed = 1;
	CHECK(dsn_build(&out, &d) && has(&out, "Subject: Delayed Mail") && has(&out, "Action: delayed\nStatus: 5.1.1") == 0 &&
	      has(&out, "Action: delayed\nStatus: 4.1.1"), "a warning: Action delayed, class 4");
	str_free(&out);
}

/* A forward here to several destinations (doc/dsn.md, "Forwards"):
 * Action: expanded, a success, alone or beside a failure. */
static void dsn_expanded(struct dsn d)
{
	struct str out = STR_INIT;
	struct dsn_rcpt r[2] = {
		{ "list@mx.example", 15, "forwarded to 3 destinations", 27, 0, DSN_EXPANDED, "rfc822;List+2BA@mx.example", 26 },
		{ "gone@mx.example", 15, "550 5.1.1 unknown user", 22, 0, DSN_FAILED, 0, 0 },
	};

	d.r = r;
	d.nr = 1;
	d.envid_len = 0;
	CHECK(dsn_build(&out, &d), "expanded: the report builds");
	CHECK(has(&out, "\nSubject: Successful Mail Delivery Report\n"), "expanded alone: a success's subject");
	CHECK(!has(&out, "Undelivered") && !has(&out, "sorry"), "expanded alone: no word of a failure");
	CHECK(has(&out, "\nOriginal-Recipient: rfc822;List+A@mx.example\nFinal-Recipient: rfc822; list@mx.example\n"
	                "Action: expanded\nStatus: 2.0.0\nDiagnostic-Code: X-Postern; forwarded to 3 destinations\n"),
	      "expanded: Action expanded, 2.0.0, Original-Recipient and the text");
	CHECK(has(&out, "<list@mx.example>:\n    expanded: sent on to more than one destination; a failure or a delay\n"
	                "    there is reported on its own, if you asked to be told of it:\n    forwarded to 3 destinations\n"),
	      "expanded: said so in words, then the text");
	r[0].why_len = 0;
	CHECK(dsn_build(&out, &d) && has(&out, "if you asked to be told of it\n\n") &&
	      has(&out, "Action: expanded\nStatus: 2.0.0\n\n") && !has(&out, "Diagnostic-Code"),
	      "expanded without a text (after a restart): no Diagnostic-Code");
	r[0].why_len = 27;

	/* the failure first, as collect() orders them */
	{
		struct dsn_rcpt mix[2] = { r[1], r[0] };
		d.r = mix;
		d.nr = 2;
		CHECK(dsn_build(&out, &d), "failed and expanded: the report builds");
		CHECK(has(&out, "\nSubject: Undelivered Mail Returned to Sender\n"), "failed and expanded: the bounce's subject");
		CHECK(has(&out, "Final-Recipient: rfc822; gone@mx.example\nAction: failed\nStatus: 5.1.1\n") &&
		      has(&out, "Final-Recipient: rfc822; list@mx.example\nAction: expanded\nStatus: 2.0.0\n"),
		      "failed and expanded: each its Action and Status");
		CHECK(count(&out, "Your message was delivered to the recipients below") == 1 &&
		      memmem(out.s, out.len, "<gone@mx.example>", 17) < memmem(out.s, out.len, "Your message was delivered", 26) &&
		      memmem(out.s, out.len, "Your message was delivered", 26) < memmem(out.s, out.len, "<list@mx.example>", 17),
		      "failed and expanded: the expanded one under the successes' line, after the failure");
	}
	/* in a warning every recipient is delayed, whatever its action */
	d.r = r;
	d.nr = 1;
	d.delayed = 1;
	CHECK(dsn_build(&out, &d) && !has(&out, "Action: expanded") && has(&out, "Action: delayed"),
	      "a warning says delayed, not expanded");
	str_free(&out);
}

/* With everything as long as can be, the whole message returned at
 * DSN_FULL_MAX, and 100,000 recipients: still within DSN_MAX. */
static void dsn_full_size(struct dsn d)
{
	static char addr[1000], why[1000], me[254], msg[DSN_FULL_MAX], envid[DSN_ENVID_MAX], orcpt[7 + DSN_ORCPT_MAX];
	struct str out = STR_INIT;
	size_t n = 100000, k, listed;
	struct dsn_rcpt *many = calloc(n, sizeof *many);
	int pass;

	memset(addr, 'a', sizeof addr);
	memset(why, 'w', sizeof why);
	memset(me, 'm', sizeof me - 1);
	memset(msg, 'b', sizeof msg);
	for (k = 0; k < sizeof msg; k += 64)
		msg[k + 63] = '\n';
	memset(envid, 'e', sizeof envid);
	memcpy(orcpt, "rfc822;", 7);
	memset(orcpt + 7, 'o', sizeof orcpt - 7);
	for (pass = 0; many && pass < 2; pass++) {
		for (k = 0; k < n; k++)
			many[k] = (struct dsn_rcpt){ addr, sizeof addr, why, sizeof why, 0,
			                             !pass || k % 2 == 0 ? DSN_FAILED : k % 4 == 1 ? DSN_RELAYED : DSN_EXPANDED,
			                             orcpt, sizeof orcpt };
		d.me = me;
		d.to = addr;
		d.to_len = sizeof addr;
		d.envid = envid;
		d.envid_len = sizeof envid;
		d.headers = msg;
		d.hlen = sizeof msg;
		d.full = 1;
		d.delayed = 0;
		d.r = many;
		d.nr = n;
		CHECK(dsn_build(&out, &d) && out.len <= DSN_MAX, pass ? "failures and successes, RET=FULL at its limit: fits in DSN_MAX"
		                                                      : "RET=FULL at its limit, longest everything: fits in DSN_MAX");
		listed = count(&out, "Final-Recipient: ");
		printf("# %zu bytes, %zu of %zu recipients listed\n", out.len, listed, n);
		CHECK(listed >= 2 && has(&out, "more recipients, not listed"), "some listed, and how many more said");
		CHECK(has(&out, "Content-Type: message/rfc822\n") && count(&out, "bbbb\n") == sizeof msg / 64,
		      "the whole message is there");
	}
	free(many);
	str_free(&out);
}

int main(void)
{
	struct str out = STR_INIT;
	struct dsn_rcpt f[2] = {
		{ "nobody@mx.example", 17, "550 5.1.1 unknown user", 22, 0, DSN_FAILED, 0, 0 },
		{ "x@remote.example", 16, "message expired in queue; last error: " "remote delivery not yet available", 0, 1,
		  DSN_FAILED, 0, 0 },
	};
	struct dsn d;
	const char hdr[] = "Received: from x\nSubject: hello\n\nbody\n";

	memset(&d, 0, sizeof d);
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
	d.r = f;
	d.nr = 2;
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
		struct dsn_rcpt evil = { "a@b.example", 11, "bad\nContent-Type: text/html\r\n\xff", 30, 0, 0, 0, 0 };
		d.r = &evil;
		d.nr = 1;
		CHECK(dsn_build(&out, &d) && !has(&out, "\nContent-Type: text/html"), "a reason cannot add a header");
	}
	CHECK(!has(&out, "more recipients, not listed"), "a short report lists everyone");
	CHECK(has(&out, "\nSubject: Undelivered Mail Returned to Sender\n"), "a bounce's subject");
	dsn_params(d);
	dsn_expanded(d);
	dsn_full_size(d);
	/* a report on 100,000 recipients still fits in DSN_MAX, the longest
	 * addresses and reasons and a header section as long as is quoted */
	{
		static char addr[1000], why[1000], me[254], headers[DSN_HEADERS_MAX];
		size_t n = 100000, k, listed;
		struct dsn_rcpt *many = calloc(n, sizeof *many);
		char more[64];
		int bounced;

		memset(addr, 'a', sizeof addr);
		memset(why, 'w', sizeof why);
		memset(me, 'm', sizeof me - 1);
		memset(headers, 'h', sizeof headers);
		for (k = 0; k < sizeof headers; k += 64)
			headers[k + 63] = '\n';
		for (k = 0; many && k < n; k++)
			many[k] = (struct dsn_rcpt){ addr, sizeof addr, why, sizeof why, 1, 0, 0, 0 };
		d.me = me;
		d.to = addr;
		d.to_len = sizeof addr;
		d.headers = headers;
		d.hlen = sizeof headers;
		d.r = many;
		d.nr = n;
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
			many[k] = (struct dsn_rcpt){ "someone.else@example.com", 24, "550 5.1.1 unknown user", 22, 0, 0, 0, 0 };
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
