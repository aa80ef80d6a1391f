/* postern-smtpd's Received line (linked from its source): the clauses,
 * the TLS comment, and what a hostile HELO name or engine name becomes. */
#include <string.h>
#include "check.h"
#include "postern-smtpd/received.c"

struct config cfg;
struct client client;

static int has(const struct str *s, const char *want)
{
	size_t n = strlen(want), i;
	for (i = 0; i + n <= s->len; i++)
		if (!memcmp(s->s + i, want, n))
			return 1;
	return 0;
}

static int starts(const struct str *s, const char *want)
{
	return s->len >= strlen(want) && !memcmp(s->s, want, strlen(want));
}

static void set(struct str *s, const char *v)
{
	if (!str_copys(s, v))
		_exit(111);
}

int main(void)
{
	struct str out = STR_INIT;
	struct tls_report tls = { .protocol = STR_INIT, .cipher = STR_INIT, .sni = STR_INIT, .verify_error = STR_INIT, .verified = -1 };

	set(&cfg.me, "mx.example.org");
	client.ip = "192.0.2.7";
	CHECK(received_build(&out, "client.test", "ESMTP", 0, "ID1", "a@b.test", 8), "plain: built");
	CHECK(starts(&out, "Received: from client.test ([192.0.2.7])\n"
	                   "\tby mx.example.org (postern-smtpd) with ESMTP id ID1\n\tfor <a@b.test>; "),
	      "plain: from, by, with, id, for");
	CHECK(!has(&out, "using"), "plain: no TLS comment");

	set(&tls.protocol, "TLSv1.2");
	set(&tls.cipher, "ECDHE-RSA-AES128-GCM-SHA256");
	CHECK(received_build(&out, "client.test", "ESMTPS", &tls, "ID2", 0, 0), "TLS: built");
	CHECK(has(&out, "([192.0.2.7])\n\t(using TLSv1.2 with cipher ECDHE-RSA-AES128-GCM-SHA256)\n"
	              "\tby mx.example.org (postern-smtpd) with ESMTPS id ID2; "),
	      "TLS: the comment between from and by, ESMTPS");

	set(&tls.cipher, "X) by evil.test (\n\tx");
	CHECK(received_build(&out, "client.test", "ESMTPS", &tls, "ID3", 0, 0), "hostile cipher: built");
	CHECK(has(&out, "(using TLSv1.2 with cipher X??by?evil.test????x)\n\tby mx.example.org"),
	      "hostile cipher: parentheses, blanks and line breaks become ?");

	set(&tls.cipher, "");
	CHECK(received_build(&out, "client.test", "ESMTPS", &tls, "ID4", 0, 0) && !has(&out, "using"),
	      "no cipher reported: no comment");

	CHECK(received_build(&out, "a (b) by c\n", "ESMTP", 0, "ID5", 0, 0) &&
	      starts(&out, "Received: from a??b??by?c? ([192.0.2.7])"), "hostile HELO: reduced to ?");

	client.local = 1;
	CHECK(received_build(&out, "me", "ESMTP", 0, "ID6", 0, 0) &&
	      has(&out, ")\n\tby mx.example.org (postern-smtpd) via local with ESMTP id ID6; "),
	      "local: via local");
	str_free(&out);
	str_free(&tls.protocol);
	str_free(&tls.cipher);
	str_free(&cfg.me);
	return check_done();
}
