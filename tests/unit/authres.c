/* The Authentication-Results judgement and the streaming filter of
 * src/lib/authres.c: which fields are this host's, and that the filter
 * takes out exactly those, however the message is cut into pieces. */
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "authres.h"

static int ours(const char *field, const char *id)
{
	return authres_is_ours(field, strlen(field), id);
}

static void ar_ours(void)
{
	const char *id = "mx.example.com";

	CHECK(ours("Authentication-Results: mx.example.com; dkim=pass", id), "ours");
	CHECK(ours("authentication-results:MX.Example.COM;none", id), "any case, no blanks");
	CHECK(ours("Authentication-Results: (c (nested) \\) ) mx.example.com 1; none", id), "after comments, a version");
	CHECK(ours("Authentication-Results:\n\tmx.example.com\n ; spf=pass", id), "folded");
	CHECK(ours("Authentication-Results: \"mx.example.com\"; none", id) &&
	      ours("Authentication-Results: \"mx.\\example.com\"; none", id), "a quoted string, a quoted pair in it");
	CHECK(ours("Authentication-Results: \"mx.example.com", id), "an unclosed quoted string: ours all the same");
	CHECK(ours("Authentication-Results: mx.example.com/x; none", id) && ours("Authentication-Results: mx.example.com", id),
	      "a token ends at a tspecial or the end");
	CHECK(ours("Authentication-Results : mx.example.com;", id) && ours("Authentication-Results\r\n :mx.example.com;", id),
	      "blanks before the colon, folded too");
	CHECK(!ours("Authentication-Results: mx.example.com.evil; dkim=pass", id) &&
	      !ours("Authentication-Results: evil.mx.example.com; dkim=pass", id) &&
	      !ours("Authentication-Results: mx.example.co; dkim=pass", id) &&
	      !ours("Authentication-Results: \"mx.example.com..\"; dkim=pass", id) &&
	      !ours("Authentication-Results: mx.example.com..; dkim=pass", id), "others' ids");
	CHECK(ours("Authentication-Results: mx.example.com.; dkim=pass", id) &&
	      ours("Authentication-Results: \"mx.example.com.\"; dkim=pass", id), "the name with the root's dot: ours");
	CHECK(!ours("Authentication-Results: (mx.example.com) other; none", id) &&
	      !ours("Authentication-Results: (unclosed mx.example.com; none", id) && !ours("Authentication-Results:", id),
	      "in a comment, no id at all: not ours");
	CHECK(!ours("X-Authentication-Results: mx.example.com;", id) && !ours("ARC-Authentication-Results: i=1; mx.example.com;", id),
	      "other fields");
	CHECK(!ours("Authentication-Results: mx.example.com;", "") && !ours("Authentication-Results mx.example.com;", id),
	      "an empty id, no colon: 0");
}

static struct str out;

static void put(const char *b, size_t n)
{
	if (!str_catb(&out, b, n))
		abort();
}

/* msg through the filter in pieces of at most step bytes (0: whole);
 * flush at the end.  1 when the output is want and removed is nremoved. */
static int strip_is(const char *msg, size_t step, const char *want, unsigned long nremoved)
{
	static struct authres_strip a;
	size_t n = strlen(msg), i;
	int ok;

	out.len = 0;
	authres_strip_init(&a, "mx.example.com", put);
	for (i = 0; i < n;) {
		size_t take = step && n - i > step ? step : n - i;
		if (!authres_strip_feed(&a, msg + i, take))
			return 0;
		i += take;
	}
	authres_strip_flush(&a);
	ok = out.len == strlen(want) && memcmp(out.s, want, out.len) == 0 && a.removed == nremoved;
	if (!ok)
		printf("# step %zu: got %lu removed, \"%.*s\"\n", step, a.removed, (int)out.len, out.s ? out.s : "");
	return ok;
}

/* the same result whatever the pieces */
static int strip_all(const char *msg, const char *want, unsigned long nremoved)
{
	size_t step;

	for (step = 0; step <= 40; step++)
		if (!strip_is(msg, step, want, nremoved))
			return 0;
	return 1;
}

static void stream(void)
{
	char *big;
	size_t i;

	CHECK(strip_all("Subject: hi\nAuthentication-Results: mx.example.com; dkim=pass\nFrom: a@b\n\nbody\n",
	                "Subject: hi\nFrom: a@b\n\nbody\n", 1), "ours taken out of the middle");
	CHECK(strip_all("Authentication-Results: mx.example.com;\n\tdkim=pass\n  spf=pass\nTo: c@d\n\nx\n",
	                "To: c@d\n\nx\n", 1), "with its continuation lines");
	CHECK(strip_all("AUTHENTICATION-RESULTS : MX.EXAMPLE.COM.;none\n\nx\n", "\nx\n", 1),
	      "any case, blanks before the colon, the root's dot");
	CHECK(strip_all("Authentication-Results:\n (a comment)\n mx.example.com; spf=pass\n\n", "\n", 1),
	      "the id on a continuation line");
	CHECK(strip_all("Authentication-Results: other.example; dkim=pass\n\tspf=fail\n\nx\n",
	                "Authentication-Results: other.example; dkim=pass\n\tspf=fail\n\nx\n", 0), "another host's stays");
	CHECK(strip_all("Authentication-Results-X: mx.example.com;\nAuthentication-Result: mx.example.com;\n"
	                "X-Authentication-Results: mx.example.com;\nAuthentication-Results mx.example.com\n\n",
	                "Authentication-Results-X: mx.example.com;\nAuthentication-Result: mx.example.com;\n"
	                "X-Authentication-Results: mx.example.com;\nAuthentication-Results mx.example.com\n\n", 0),
	      "other names, no colon: passed on");
	CHECK(strip_all("\tcontinues the Received field\nAuthentication-Results: mx.example.com; none\n\n",
	                "\tcontinues the Received field\n\n", 1), "a leading continuation passes with the field above");
	CHECK(strip_all("Subject: a\n\nAuthentication-Results: mx.example.com; none\n",
	                "Subject: a\n\nAuthentication-Results: mx.example.com; none\n", 0), "the body is not touched");
	CHECK(strip_all("Subject: a\nAuthentication-Results: mx.example.com; none", "Subject: a\n", 1),
	      "a header with no body and no last line end: judged at the flush");
	CHECK(strip_all("Authentication-Results: mx.example.com; a\nAuthentication-Results: x.example; b\n"
	                "Authentication-Results: mx.example.com; c\n\n", "Authentication-Results: x.example; b\n\n", 2),
	      "two of ours around another's");
	CHECK(strip_all("Authentication-Results: mx.example.com; dkim=pass\n\n\n", "\n\n", 1),
	      "ours right before the blank line");
	CHECK(strip_all("", "", 0) && strip_all("\n", "\n", 0), "nothing, a bare blank line");
	CHECK(strip_all("Authentication-Results\n : mx.example.com; dkim=pass\nTo: x\n\n", "To: x\n\n", 1) &&
	      strip_all("Authentication-Results \t\n\t\n :\n mx.example.com; dkim=pass\n\n", "\n", 1),
	      "the colon folded onto a continuation line: ours all the same (a reader unfolds first)");
	CHECK(strip_all("Authentication-Results\nTo: x\n\n", "Authentication-Results\nTo: x\n\n", 0) &&
	      strip_all("Authentication-Results \n\n", "Authentication-Results \n\n", 0) &&
	      strip_all("Authentication-Results\n x: mx.example.com\n\n", "Authentication-Results\n x: mx.example.com\n\n", 0),
	      "a name line with no colon after it, or something else first on the next: passed on");

	big = malloc(AUTHRES_HOLD_MAX + 100);
	if (!big)
		abort();
	memcpy(big, "Authentication-Results: (", 25);
	for (i = 25; i < AUTHRES_HOLD_MAX + 50; i++)
		big[i] = 'x';
	memcpy(big + i, ") other; a\nTo: x\n\n", 19);
	CHECK(strip_is(big, 0, "To: x\n\n", 1) && strip_is(big, 7, "To: x\n\n", 1),
	      "longer than AUTHRES_HOLD_MAX: taken out whoever it names");
	memcpy(big, "Authentication-Results", 22);
	for (i = 22; i < AUTHRES_HOLD_MAX + 50; i++)
		big[i] = ' ';
	memcpy(big + i, ": other; a\nTo: x\n\n", 19);
	CHECK(strip_is(big, 0, "To: x\n\n", 1) && strip_is(big, 13, "To: x\n\n", 1),
	      "blanks without end before the colon: taken out");
	free(big);

	{
		/* the filter at the header's end, as postern-smtpd -a adds its fields */
		static struct authres_strip a;
		const char *msg = "Authentication-Results: mx.example.com; x\n";
		out.len = 0;
		authres_strip_init(&a, "mx.example.com", put);
		(void)authres_strip_feed(&a, msg, strlen(msg));
		authres_strip_flush(&a);
		put("Date: now\n", 10);
		(void)authres_strip_feed(&a, "\nAuthentication-Results: mx.example.com; body\n", 46);
		authres_strip_flush(&a);
		CHECK(out.len == 56 && !memcmp(out.s, "Date: now\n\nAuthentication-Results: mx.example.com; body\n", 56) &&
		      a.removed == 1, "flushed at the blank line: what the caller adds comes after, the body passes");
		authres_strip_free(&a);
	}
}

int main(void)
{
	ar_ours();
	stream();
	str_free(&out);
	return check_done();
}
