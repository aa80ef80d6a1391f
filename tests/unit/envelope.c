/* Envelope, address and queue-id checks: what postern-queue, postern-send
 * and every reader of a queue file rely on. */
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "addr.h"
#include "date822.h"
#include "envelope.h"
#include "esmtpdsn.h"
#include "uniq.h"

#define E(lit) (lit), sizeof(lit) - 1

/* The DSN records (doc/dsn.md): where each may stand, what each may hold. */
static void dsn_records(void)
{
	struct envelope e;
	const char *o;

	CHECK(envelope_parse(&e, E("Fa@b.c\0Tx@y.z\0\0")) == ENV_OK && e.ret == 0 && e.envid_len == 0 &&
	      !e.notify && envelope_notify(&e, 0) == DSN_NOTIFY_DEFAULT && envelope_orcpt(&e, 0, &o) == 0,
	      "no DSN records: defaults, no per-recipient arrays");
	envelope_free(&e);
	CHECK(envelope_parse(&e, E("Fa@b.c\0RFULL\0Eid+2B1\0NSUCCESS,DELAY\0Orfc822;x@y.z\0Tx@y.z\0Tq@r.s\0\0")) == ENV_OK &&
	      e.nrcpt == 2 && e.ret == DSN_RET_FULL && e.envid_len == 6 && memcmp(e.envid, "id+2B1", 6) == 0 &&
	      envelope_notify(&e, 0) == (DSN_NOTIFY_SUCCESS | DSN_NOTIFY_DELAY) &&
	      envelope_notify(&e, 1) == DSN_NOTIFY_DEFAULT && envelope_orcpt(&e, 0, &o) == 12 &&
	      memcmp(o, "rfc822;x@y.z", 12) == 0 && envelope_orcpt(&e, 1, &o) == 0 && strcmp(e.rcpt[1], "q@r.s") == 0,
	      "every DSN record, each on its own recipient");
	envelope_free(&e);
	CHECK(envelope_parse(&e, E("F\0RHDRS\0Tx@y.z\0Orfc822;q@r.s\0Tq@r.s\0\0")) == ENV_OK && e.ret == DSN_RET_HDRS &&
	      envelope_notify(&e, 1) == DSN_NOTIFY_DEFAULT && envelope_orcpt(&e, 1, &o) == 12,
	      "RET alone; ORCPT alone on the second recipient");
	envelope_free(&e);
	CHECK(envelope_parse(&e, E("Fa@b.c\0NNEVER\0Tx@y.z\0\0")) == ENV_OK && envelope_notify(&e, 0) == DSN_NOTIFY_NEVER,
	      "NOTIFY=NEVER");
	envelope_free(&e);
	CHECK(envelope_parse(&e, E("Fa@b.c\0Tx@y.z\0\0")) == ENV_OK && !e.forwarded, "no S: not a forward");
	envelope_free(&e);
	CHECK(envelope_parse(&e, E("Fa@b.c\0S\0Tx@y.z\0\0")) == ENV_OK && e.forwarded && e.nrcpt == 1, "S: a forward");
	envelope_free(&e);
	CHECK(envelope_parse(&e, E("Fa@b.c\0RFULL\0EX\0S\0NNEVER\0Tx@y.z\0\0")) == ENV_OK && e.forwarded &&
	      e.ret == DSN_RET_FULL && envelope_notify(&e, 0) == DSN_NOTIFY_NEVER, "S after R and E, before N");
	envelope_free(&e);
	CHECK(envelope_parse(&e, E("Fa@b.c\0S\0S\0Tx@y.z\0\0")) == ENV_FORMAT, "S twice refused");
	CHECK(envelope_parse(&e, E("Fa@b.c\0Sx\0Tx@y.z\0\0")) == ENV_FORMAT, "S with a value refused");
	CHECK(envelope_parse(&e, E("Fa@b.c\0S\0RFULL\0Tx@y.z\0\0")) == ENV_FORMAT, "S before R refused");
	CHECK(envelope_parse(&e, E("Fa@b.c\0Tx@y.z\0S\0Tq@r.s\0\0")) == ENV_FORMAT, "S after a recipient refused");
	CHECK(envelope_parse(&e, E("Fa@b.c\0S\0\0")) == ENV_FORMAT, "S and no recipient refused");
	CHECK(envelope_parse(&e, E("Fa@b.c\0EX\0RFULL\0Tx@y.z\0\0")) == ENV_FORMAT, "E before R refused");
	CHECK(envelope_parse(&e, E("Fa@b.c\0RFULL\0RFULL\0Tx@y.z\0\0")) == ENV_FORMAT, "R twice refused");
	CHECK(envelope_parse(&e, E("Fa@b.c\0Rfull\0Tx@y.z\0\0")) == ENV_FORMAT, "R not canonical refused");
	CHECK(envelope_parse(&e, E("Fa@b.c\0RALL\0Tx@y.z\0\0")) == ENV_FORMAT, "R other than FULL or HDRS refused");
	CHECK(envelope_parse(&e, E("Fa@b.c\0E\0Tx@y.z\0\0")) == ENV_FORMAT, "empty E refused");
	CHECK(envelope_parse(&e, E("Fa@b.c\0Ea=b\0Tx@y.z\0\0")) == ENV_FORMAT, "E not xtext refused");
	CHECK(envelope_parse(&e, E("Fa@b.c\0Tx@y.z\0RFULL\0\0")) == ENV_FORMAT, "R after a recipient refused");
	CHECK(envelope_parse(&e, E("Fa@b.c\0Tx@y.z\0NNEVER\0\0")) == ENV_FORMAT, "N with no recipient after it refused");
	CHECK(envelope_parse(&e, E("Fa@b.c\0Orfc822;a@b.c\0NNEVER\0Tx@y.z\0\0")) == ENV_FORMAT, "O before N refused");
	CHECK(envelope_parse(&e, E("Fa@b.c\0NNEVER\0NNEVER\0Tx@y.z\0\0")) == ENV_FORMAT, "N twice refused");
	CHECK(envelope_parse(&e, E("Fa@b.c\0NDELAY,SUCCESS\0Tx@y.z\0\0")) == ENV_FORMAT, "N not canonical refused");
	CHECK(envelope_parse(&e, E("Fa@b.c\0NNEVER,SUCCESS\0Tx@y.z\0\0")) == ENV_FORMAT, "NEVER with another refused");
	CHECK(envelope_parse(&e, E("Fa@b.c\0Ox@y.z\0Tx@y.z\0\0")) == ENV_FORMAT, "O without a type refused");
	CHECK(envelope_parse(&e, E("Fa@b.c\0Orfc822;a+2bb\0Tx@y.z\0\0")) == ENV_FORMAT, "O with lower-case hex refused");
	CHECK(envelope_parse(&e, E("Fa@b.c\0NNEVER\0\0")) == ENV_FORMAT, "N then the final NUL refused");
}

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(void)
{
	struct envelope e;
	struct str s = STR_INIT, list = STR_INIT;
	char big[ADDR_MAX + 2];
	char **ids;
	size_t i, dups = 0, bad = 0;

	/* envelope_parse */
	CHECK(envelope_parse(&e, E("Fa@b.c\0Tx@y.z\0\0")) == ENV_OK && e.nrcpt == 1 &&
	      e.sender_len == 5 && memcmp(e.sender, "a@b.c", 5) == 0 && e.rcpt_len[0] == 5 &&
	      strcmp(e.rcpt[0], "x@y.z") == 0, "one recipient");
	envelope_free(&e);
	CHECK(envelope_parse(&e, E("F\0Tx@y.z\0Tq@r.s\0\0")) == ENV_OK && e.nrcpt == 2 && e.sender_len == 0 &&
	      strcmp(e.rcpt[1], "q@r.s") == 0, "null sender, two recipients");
	envelope_free(&e);
	CHECK(envelope_parse(&e, E("F#@[]\0Tpostmaster@y.z\0\0")) == ENV_OK, "double-bounce sender accepted");
	envelope_free(&e);
	CHECK(envelope_parse(&e, E("F\0\0")) == ENV_FORMAT, "no recipients refused");
	CHECK(envelope_parse(&e, E("Fa@b.c\0Tx@y.z\0")) == ENV_FORMAT, "missing final NUL refused");
	CHECK(envelope_parse(&e, E("Fa@b.c\0Tx@y.z")) == ENV_FORMAT, "truncated record refused");
	CHECK(envelope_parse(&e, E("Fa@b.c\0Tx@y.z\0\0junk")) == ENV_FORMAT, "bytes after the final NUL refused");
	CHECK(envelope_parse(&e, E("Ta@b.c\0Tx@y.z\0\0")) == ENV_FORMAT, "must start with F");
	CHECK(envelope_parse(&e, E("Fa@b.c\0Xx@y.z\0\0")) == ENV_FORMAT, "unknown record letter refused");
	CHECK(envelope_parse(&e, E("Fa@b.c\0Tx@y.z\0Fa@b.c\0\0")) == ENV_FORMAT, "second F refused");
	CHECK(envelope_parse(&e, E("Fa@b.c\0Tx\ny@y.z\0\0")) == ENV_FORMAT, "newline in an address refused");
	CHECK(envelope_parse(&e, E("Fa@b.c\0Tnodomain\0\0")) == ENV_FORMAT, "recipient without domain refused");
	CHECK(envelope_parse(&e, E("Fbad\0Tx@y.z\0\0")) == ENV_FORMAT, "bad sender refused");
	CHECK(envelope_parse(&e, "", 0) == ENV_FORMAT, "empty envelope refused");
	CHECK(envelope_parse(&e, E("\xff\xfe\x00\x01garbage")) == ENV_FORMAT, "garbage refused");
	memset(big, 'a', sizeof big);
	s.len = 0;
	str_catc(&s, 'F');
	str_catz(&s);
	str_catc(&s, 'T');
	str_catb(&s, big, ADDR_MAX - 6);
	str_cats(&s, "@y.org");
	str_catz(&s);
	str_catz(&s);
	CHECK(envelope_parse(&e, s.s, s.len) == ENV_OK && e.rcpt_len[0] == ADDR_MAX, "address of exactly ADDR_MAX bytes");
	envelope_free(&e);
	s.len = 0;
	str_catc(&s, 'F');
	str_catz(&s);
	str_catc(&s, 'T');
	str_catb(&s, big, ADDR_MAX - 5);
	str_cats(&s, "@y.org");
	str_catz(&s);
	str_catz(&s);
	CHECK(envelope_parse(&e, s.s, s.len) == ENV_TOOLONG, "ADDR_MAX+1 bytes is 11, address too long");
	CHECK(envelope_sender_ok("", 0) == ENV_OK && envelope_sender_ok(E("a@b")) == ENV_OK &&
	      envelope_sender_ok(E("a b@c")) == ENV_FORMAT, "envelope_sender_ok");

	/* addr_check and friends */
	CHECK(addr_check(E("user@example.org")) == ADDR_OK, "plain address");
	CHECK(addr_check(E("\"odd@local\"@example.org")) == ADDR_OK && addr_at(E("a@b@c.d")) == 3, "last @ splits");
	CHECK(addr_check(E("j\xc3\xb6rg@\xc3\xa9xample.org")) == ADDR_OK, "UTF-8 address (SMTPUTF8)");
	CHECK(addr_check(E("user@[192.0.2.1]")) == ADDR_OK && addr_check(E("u@[IPv6:::1]")) == ADDR_OK, "address literals");
	CHECK(addr_check(E("@example.org")) == ADDR_BAD, "empty local part");
	CHECK(addr_check(E("user@")) == ADDR_BAD && addr_check(E("user")) == ADDR_BAD, "no domain");
	CHECK(addr_check(E("user@exa mple.org")) == ADDR_BAD, "space refused");
	CHECK(addr_check(E("us\rer@example.org")) == ADDR_BAD && addr_check(E("a@b\x7f")) == ADDR_BAD, "control bytes refused");
	CHECK(addr_check(E("<user@example.org>")) == ADDR_BAD, "angle brackets refused");
	CHECK(addr_check(E("user@example..org")) == ADDR_BAD && addr_check(E("user@.org")) == ADDR_BAD, "empty label");
	CHECK(addr_check(E("user@ex_ample.org")) == ADDR_BAD, "underscore in domain refused");
	CHECK(addr_check(E("u@[1.2.3.4")) == ADDR_BAD && addr_check(E("u@[1;2]")) == ADDR_BAD, "bad literal");
	CHECK(addr_check(big, ADDR_MAX + 1) == ADDR_TOOLONG, "too long");
	CHECK(domain_check(E("a.b")) && !domain_check("", 0), "domain_check");
	{
		char label[64 + 5];
		memset(label, 'x', 64);
		memcpy(label + 64, ".org", 4);
		CHECK(!domain_check(label, 68) && domain_check(label + 1, 67), "63-byte label limit");
	}
	{
		char d[] = "ExAmPle.ORG";
		lowercase(d, strlen(d));
		CHECK(strcmp(d, "example.org") == 0, "lowercase");
	}

	/* domain_listed */
	str_cats(&list, "example.org");
	str_catz(&list);
	str_cats(&list, ".sub.net");
	str_catz(&list);
	CHECK(domain_listed(E("example.org"), &list) && domain_listed(E("EXAMPLE.Org"), &list), "listed, any case");
	CHECK(!domain_listed(E("a.example.org"), &list), "plain entry does not match subdomains");
	CHECK(domain_listed(E("a.sub.net"), &list) && domain_listed(E("x.y.SUB.NET"), &list), "dot entry matches subdomains");
	CHECK(!domain_listed(E("sub.net"), &list) && !domain_listed(E("xsub.net"), &list), "dot entry not the domain itself");
	CHECK(!domain_listed(E("example.org.evil"), &list) && !domain_listed(E("xample.org"), &list), "no partial match");
	{
		struct str empty = STR_INIT;
		CHECK(!domain_listed(E("example.org"), &empty), "empty list matches nothing");
	}

	/* queue ids */
	CHECK(qid_valid(E("1764423956.000123P42R9f3a1c2e7b6d5a40")), "a queue id");
	CHECK(!qid_valid(E("../etc/passwd")) && !qid_valid(E("1/2")) && !qid_valid(E("x123")), "path-like ids refused");
	CHECK(!qid_valid("", 0) && !qid_valid(E("1\n")) && !qid_valid(E("1 2")), "empty and blank ids refused");
	memset(big, '1', 65);
	memcpy(big + 10, ".1P1R", 5);
	CHECK(qid_valid(big, 64) && !qid_valid(big, 65), "64 bytes at most");
	CHECK(qid_valid(E("1700000000.1P1R1")) && qid_valid(E("1.0P0Rabcdef0123456789")), "short fields are fine");
	CHECK(!qid_valid(E("1764423956.000123P42R9f3a1c2e7b6d5a40.env")), "an envelope's name is not a queue id");
	CHECK(!qid_valid(E(".p12")) && !qid_valid(E("1764423956.000123P42R9F3A")) &&
	          !qid_valid(E("1764423956.000123P42R")) && !qid_valid(E("1764423956.000123P42")) &&
	          !qid_valid(E("1764423956.P42R9f")) && !qid_valid(E("1764423956000123P42R9f")) &&
	          !qid_valid(E("1764423956.000123R42P9f")) && !qid_valid(E("1764423956.000123P42R9f.")),
	      "anything but digits.digitsPdigitsRhex refused");
	CHECK(qid_time(E("1764423956.000123P42R9f3a1c2e7b6d5a40")) == 1764423956ULL, "arrival time");

	ids = calloc(10000, sizeof *ids);
	for (i = 0; ids && i < 10000; i++) {
		s.len = 0;
		if (!uniq_qid(&s) || !qid_valid(s.s, s.len))
			bad++;
		ids[i] = strdup(s.s ? s.s : "");
	}
	CHECK(ids && bad == 0, "10000 ids are valid");
	if (ids) {
		qsort(ids, 10000, sizeof *ids, cmp);
		for (i = 1; i < 10000; i++)
			if (strcmp(ids[i - 1], ids[i]) == 0)
				dups++;
		for (i = 0; i < 10000; i++)
			free(ids[i]);
		free(ids);
	}
	CHECK(dups == 0, "10000 ids are unique");
	s.len = 0;
	CHECK(uniq_maildir(&s, "ho/st:x") && strstr(s.s, ".ho\\057st\\072x") && !strchr(s.s, '/'), "Maildir name escapes / and :");

	/* RFC 5322 dates */
	s.len = 0;
	CHECK(date822_cat(&s, 0) && str_equals(&s, "Thu, 1 Jan 1970 00:00:00 +0000"), "date of 0");
	s.len = 0;
	CHECK(date822_cat(&s, 1764423956) && str_equals(&s, "Sat, 29 Nov 2025 13:45:56 +0000"), "date of 1764423956");

	str_free(&s);
	str_free(&list);
	dsn_records();
	return check_done();
}
