/* src/lib/srs.c and siphash.c: SRS addresses made by srs_forward come back
 * through srs_reverse as the sender they stand for, and nothing else does
 * (doc/srs.md). */
#include <string.h>
#include "check.h"
#include "siphash.h"
#include "srs.h"
#include "addr.h"

#define S(lit) (lit), sizeof(lit) - 1
#define DAY 20425UL /* 2025-12-03 */

/* SipHash-2-4's reference vectors (the paper's vectors.h): key 00..0f,
 * message 00..n-1, output bytes least significant first */
static const char *const vectors[] = {
	"310e0edd47db6f72", "fd67dc93c539f874", "5a4fa9d909806c0d", "2d7efbd796666785", "b7877127e09427cf",
	"8da699cd64557618", "cee3fe586e46c9cb", "37d1018bf50002ab", "6224939a79f5f593", "b0e4a90bdf82009e",
	"f3b9dd94c5bb5d7a", "a7ad6b22462fb3f4", "fbe50e86bc8f1e75", "903d84c02756ea14", "eef27a8e90ca23f7",
	"e545be4961ca29a1", "db9bc2577fcc2a3f",
};

static int vector_ok(size_t n)
{
	unsigned char k[16], m[16];
	char hex[17];
	uint64_t h;
	size_t i;

	for (i = 0; i < 16; i++)
		k[i] = m[i] = (unsigned char)i;
	h = siphash24(k, m, n);
	for (i = 0; i < 8; i++) {
		hex[2 * i] = "0123456789abcdef"[(h >> (8 * i + 4)) & 15];
		hex[2 * i + 1] = "0123456789abcdef"[(h >> (8 * i)) & 15];
	}
	hex[16] = 0;
	return strcmp(hex, vectors[n]) == 0;
}

static struct srs_keys keys, other, rotated;

static int forward_is(const char *sender, const char *want_prefix, unsigned long day)
{
	struct str out = STR_INIT;
	int ok = srs_forward(&out, sender, strlen(sender), S("fwd.example"), &keys, day) == SRS_OK &&
	         out.len > strlen(want_prefix) && memcmp(out.s, want_prefix, strlen(want_prefix)) == 0 &&
	         addr_check(out.s, out.len) == ADDR_OK;
	str_free(&out);
	return ok;
}

/* forward with keys, then reverse the local part with ks on day back */
static int round_trip(const char *sender, const struct srs_keys *ks, unsigned long back, int want, const char *want_addr)
{
	struct str out = STR_INIT, rev = STR_INIT;
	int r, ok = srs_forward(&out, sender, strlen(sender), S("fwd.example"), &keys, DAY) == SRS_OK;

	if (ok) {
		r = srs_reverse(&rev, out.s, addr_at(out.s, out.len), ks, back);
		ok = r == want && (want != SRS_OK || (rev.len == strlen(want_addr) && memcmp(rev.s, want_addr, rev.len) == 0));
	}
	str_free(&out);
	str_free(&rev);
	return ok;
}

static int skipped(const char *sender, size_t n)
{
	struct str out = STR_INIT;
	int ok = srs_forward(&out, sender, n, S("fwd.example"), &keys, DAY) == SRS_SKIP && out.len == 0;
	str_free(&out);
	return ok;
}

static int reverse_is(const char *local, int want)
{
	struct str out = STR_INIT;
	int ok = srs_reverse(&out, local, strlen(local), &keys, DAY) == want;
	str_free(&out);
	return ok;
}

/* the address srs_forward makes, with byte i changed to c */
static int tampered(const char *sender, size_t i, char c)
{
	struct str out = STR_INIT, rev = STR_INIT;
	int r = -1;

	if (srs_forward(&out, sender, strlen(sender), S("fwd.example"), &keys, DAY) == SRS_OK && i < out.len) {
		out.s[i] = c;
		r = srs_reverse(&rev, out.s, addr_at(out.s, out.len), &keys, DAY);
	}
	str_free(&out);
	str_free(&rev);
	return r;
}

static int lowered_round_trip(const char *sender)
{
	struct str out = STR_INIT, rev = STR_INIT;
	int ok = srs_forward(&out, sender, strlen(sender), S("fwd.example"), &keys, DAY) == SRS_OK;
	if (ok) {
		lowercase(out.s, out.len);
		ok = srs_reverse(&rev, out.s, addr_at(out.s, out.len), &keys, DAY) == SRS_OK;
	}
	str_free(&out);
	str_free(&rev);
	return ok;
}

int main(void)
{
	struct str out = STR_INIT, rev = STR_INIT, two = STR_INIT, back = STR_INIT;
	size_t n, i, failures = 0;
	char big[ADDR_MAX + 10];

	for (n = 0; n <= 16; n++)
		if (!vector_ok(n))
			failures++;
	CHECK(failures == 0, "siphash24 gives the reference vectors for 0 to 16 bytes");

	CHECK(srs_keys_parse(&keys, S("00112233445566778899aabbccddeeff\n")), "a key file of one key");
	CHECK(keys.n == 1 && keys.k[0][0] == 0x00 && keys.k[0][15] == 0xff, "its bytes");
	CHECK(srs_keys_parse(&other, S("# made by postern-srskey\n\nFFEEDDCCBBAA99887766554433221100\r\n")) && other.n == 1 &&
	      other.k[0][0] == 0xff, "comments, blank lines, upper case and CR LF");
	CHECK(srs_keys_parse(&rotated, S("ffeeddccbbaa99887766554433221100\n00112233445566778899aabbccddeeff")) &&
	      rotated.n == 2, "two keys, the last line without LF");
	{
		struct srs_keys k;
		CHECK(!srs_keys_parse(&k, S("")) && k.n == 0, "an empty file is refused");
		CHECK(!srs_keys_parse(&k, S("# nothing\n")), "comments alone are refused");
		CHECK(!srs_keys_parse(&k, S("00112233445566778899aabbccddeef\n")), "31 digits are refused");
		CHECK(!srs_keys_parse(&k, S("00112233445566778899aabbccddeeff0\n")), "33 digits are refused");
		CHECK(!srs_keys_parse(&k, S("0011223344556677889ga abbccddeeff\n")), "a non-hex byte is refused");
		CHECK(!srs_keys_parse(&k, S(" 00112233445566778899aabbccddeeff\n")), "leading space is refused");
		CHECK(!srs_keys_parse(&k, S("00112233445566778899aabbccddeeff\n"
		                            "00112233445566778899aabbccddeeff\n00112233445566778899aabbccddeeff\n"
		                            "00112233445566778899aabbccddeeff\n00112233445566778899aabbccddeeff\n"
		                            "00112233445566778899aabbccddeeff\n00112233445566778899aabbccddeeff\n"
		                            "00112233445566778899aabbccddeeff\n00112233445566778899aabbccddeeff\n")),
		      "more than SRS_KEYS_MAX keys are refused");
	}
	CHECK(srs_day(86400LL * DAY + 86399) == DAY && srs_day(-5) == 0, "srs_day");

	CHECK(srs_local_is(S("SRS0=x")) && srs_local_is(S("srs1+x")) && srs_local_is(S("Srs0-x")),
	      "srs_local_is: SRS0 and SRS1, any case, '=', '+' or '-'");
	CHECK(!srs_local_is(S("SRS0=")) && !srs_local_is(S("SRS2=x")) && !srs_local_is(S("SRS0.x")) &&
	      !srs_local_is(S("srs")), "srs_local_is: not others");

	CHECK(forward_is("alice@example.org", "SRS0=", DAY), "a sender becomes SRS0");
	CHECK(srs_forward(&out, S("alice@example.org"), S("fwd.example"), &keys, DAY) == SRS_OK, "srs_forward");
	/* day 20425 = 19 * 1024 + 969; 969 = 30 * 32 + 9: "6J" */
	CHECK(out.len == strlen("SRS0=HHHHHHHH=6J=example.org=alice@fwd.example") && memcmp(out.s + 14, "6J=example.org=alice@fwd.example", 32) == 0,
	      "its form: SRS0=HASH=TT=domain=local@srsdomain, 8 characters of hash");
	CHECK(srs_reverse(&rev, out.s, addr_at(out.s, out.len), &keys, DAY) == SRS_OK && rev.len == 17 &&
	      memcmp(rev.s, "alice@example.org", 17) == 0, "srs_reverse gives the sender back");
	CHECK(srs_reverse(&rev, out.s, addr_at(out.s, out.len), &keys, DAY + SRS_MAXAGE_DAYS) == SRS_OK,
	      "still good SRS_MAXAGE_DAYS later");
	CHECK(srs_reverse(&rev, out.s, addr_at(out.s, out.len), &keys, DAY + SRS_MAXAGE_DAYS + 1) == SRS_EXPIRED,
	      "expired the day after");
	CHECK(srs_reverse(&rev, out.s, addr_at(out.s, out.len), &keys, DAY - 1) == SRS_OK, "a day early is a clock set back");
	CHECK(srs_reverse(&rev, out.s, addr_at(out.s, out.len), &keys, DAY - 2) == SRS_EXPIRED, "two days early is not");
	CHECK(srs_reverse(&rev, out.s, addr_at(out.s, out.len), &keys, DAY + 1024) == SRS_OK,
	      "the date wraps at 1024 days (as libsrs2's)");
	CHECK(srs_reverse(&rev, out.s, addr_at(out.s, out.len), &other, DAY) == SRS_BADHASH, "another key does not verify it");
	CHECK(srs_reverse(&rev, out.s, addr_at(out.s, out.len), &rotated, DAY) == SRS_OK,
	      "a key file with the old key second still verifies it");
	CHECK(lowered_round_trip("Alice.Smith@Example.ORG"), "lower-cased on the way, it still verifies");
	CHECK(round_trip("Alice@Example.org", &keys, DAY, SRS_OK, "Alice@Example.org"), "case kept as written");
	CHECK(round_trip("a=b+c@example.org", &keys, DAY, SRS_OK, "a=b+c@example.org"), "'=' and '+' in the local part");
	CHECK(round_trip("bj\xc3\xb6rn@ex\xc3\xa4mple.org", &keys, DAY, SRS_OK, "bj\xc3\xb6rn@ex\xc3\xa4mple.org"),
	      "UTF-8 in local part and domain");
	CHECK(round_trip("x@a.b", &keys, DAY + 3, SRS_OK, "x@a.b"), "a short one, three days on");

	/* tampering */
	CHECK(tampered("alice@example.org", 5, 'Z') == SRS_BADHASH || tampered("alice@example.org", 5, 'Y') == SRS_BADHASH,
	      "a changed hash");
	CHECK(tampered("alice@example.org", 14, 'A') == SRS_BADHASH, "a changed date");
	CHECK(tampered("alice@example.org", 17, 'X') == SRS_BADHASH, "a changed domain");
	CHECK(tampered("alice@example.org", 31, 'X') == SRS_BADHASH, "a changed local part");
	CHECK(tampered("-x@example.org", 3, '1') == SRS_BADHASH, "SRS0 passed off as SRS1 (the type is signed)");
	CHECK(tampered("alice@example.org", 14, '1') == SRS_MALFORMED, "a date that is not base32");
	CHECK(reverse_is("SRS0=AAAAAAAA=6J=example.org=alice", SRS_BADHASH), "a made-up hash");
	CHECK(reverse_is("SRS0=AAAAAAA=6J=example.org=alice", SRS_MALFORMED), "a hash one short");
	CHECK(reverse_is("SRS0=AAAAAAAA", SRS_MALFORMED) && reverse_is("SRS0=AAAAAAAA=6J", SRS_MALFORMED) &&
	      reverse_is("SRS0=AAAAAAAA=6J=example.org", SRS_MALFORMED) && reverse_is("SRS0=AAAAAAAA=6J=example.org=", SRS_MALFORMED) &&
	      reverse_is("SRS0=AAAAAAAA=6J==alice", SRS_MALFORMED) && reverse_is("SRS0=AAAAAAAA=6JX=example.org=alice", SRS_MALFORMED),
	      "SRS0 without all its fields");
	CHECK(reverse_is("SRS1=AAAAAAAA=6J=host", SRS_MALFORMED) && reverse_is("SRS1=AAAAAAAA=6J=host=x", SRS_MALFORMED) &&
	      reverse_is("SRS1=AAAAAAAA=6J==+x", SRS_MALFORMED) && reverse_is("SRS1=AAAAAAAA=6J=host=+", SRS_MALFORMED),
	      "SRS1 without all its fields");
	CHECK(reverse_is("alice", SRS_NOT) && reverse_is("SRS0", SRS_NOT) && reverse_is("SRS3=a=b=c=d", SRS_NOT), "not SRS");
	{
		struct srs_keys none = { 0 };
		CHECK(srs_reverse(&rev, out.s, addr_at(out.s, out.len), &none, DAY) == SRS_BADHASH, "no keys: nothing verifies");
		CHECK(srs_forward(&rev, S("alice@example.org"), S("fwd.example"), &none, DAY) == SRS_SKIP, "no keys: nothing is made");
	}

	/* SRS1: a second forwarder */
	CHECK(srs_forward(&two, out.s, out.len, S("second.example"), &keys, DAY) == SRS_OK &&
	      two.len > 5 && memcmp(two.s, "SRS1=", 5) == 0, "an SRS0 sender becomes SRS1");
	CHECK(two.len > 30 && memcmp(two.s + 14, "6J=fwd.example==", 16) == 0, "SRS1=HASH=TT=first.host==...");
	CHECK(srs_reverse(&back, two.s, addr_at(two.s, two.len), &keys, DAY) == SRS_OK && back.len == out.len &&
	      memcmp(back.s, out.s, out.len) == 0, "SRS1 reverses to the first forwarder's SRS0");
	CHECK(srs_reverse(&back, two.s, addr_at(two.s, two.len), &keys, DAY + SRS_MAXAGE_DAYS + 1) == SRS_EXPIRED,
	      "SRS1 expires as SRS0 does: it carries a date of its own");
	CHECK(srs_forward(&rev, S("SRS1=HHHHHH=first.example==GG=TT=x.y=z@second.example"), S("third.example"), &keys, DAY) == SRS_OK &&
	      rev.len > 14 && memcmp(rev.s, "SRS1=", 5) == 0 && memcmp(rev.s + 14, "6J=first.example==GG=TT=x.y=z@", 30) == 0,
	      "another host's SRS1 (libsrs2's form) keeps its first forwarder, the one between dropped");
	CHECK(srs_reverse(&back, rev.s, addr_at(rev.s, rev.len), &keys, DAY) == SRS_OK &&
	      back.len == strlen("SRS0=GG=TT=x.y=z@first.example") && memcmp(back.s, "SRS0=GG=TT=x.y=z@first.example", back.len) == 0,
	      "... and reverses to the first forwarder's SRS0");
	CHECK(srs_forward(&rev, two.s, two.len, S("third.example"), &keys, DAY) == SRS_OK && memcmp(rev.s, "SRS0=", 5) == 0 &&
	      srs_reverse(&back, rev.s, addr_at(rev.s, rev.len), &keys, DAY) == SRS_OK && back.len == two.len &&
	      memcmp(back.s, two.s, two.len) == 0, "postern's own SRS1 (with its date) from elsewhere is signed as a plain sender");
	CHECK(srs_forward(&rev, S("srs0+abc=de=x.y=z@first.example"), S("fwd.example"), &keys, DAY) == SRS_OK &&
	      memcmp(rev.s + 14, "6J=first.example=+abc=de=x.y=z@", 31) == 0, "another host's SRS0 with '+' keeps it");
	CHECK(srs_reverse(&back, rev.s, addr_at(rev.s, rev.len), &keys, DAY) == SRS_OK &&
	      back.len == strlen("SRS0+abc=de=x.y=z@first.example") && memcmp(back.s, "SRS0+abc=de=x.y=z@first.example", back.len) == 0,
	      "... and gives it back");
	CHECK(srs_forward(&rev, S("SRS1=XXXXXX@first.example"), S("fwd.example"), &keys, DAY) == SRS_OK &&
	      memcmp(rev.s, "SRS0=", 5) == 0, "a malformed SRS1 is signed as a plain sender");
	CHECK(srs_forward(&rev, S("SRS1=xbax=d?d==e@first.example"), S("fwd.example"), &keys, DAY) == SRS_OK &&
	      memcmp(rev.s, "SRS0=", 5) == 0 && srs_reverse(&back, rev.s, addr_at(rev.s, rev.len), &keys, DAY) == SRS_OK &&
	      back.len == 30 && memcmp(back.s, "SRS1=xbax=d?d==e@first.example", 30) == 0,
	      "an SRS1 whose first host is no domain is signed as a plain sender (found by fuzzing)");

	/* what is left alone */
	CHECK(skipped("", 0), "the null sender");
	CHECK(skipped(S("#@[]")), "the double-bounce sender");
	CHECK(skipped(S("\"a b\"@example.org")), "a quoted local part");
	CHECK(skipped(S("a@[192.0.2.1]")), "an address literal");
	CHECK(skipped(S("nodomain")), "no domain");
	CHECK(skipped(S("a@b=c.example")), "a domain with '='");
	CHECK(skipped(S("a%b@example.org")) && skipped(S("a!b@example.org")), "'%' or '!' in the local part (source routes)");
	CHECK(skipped(S("a..b@example.org")) && skipped(S("ab.@example.org")), "two dots together, a dot at the end");
	CHECK(forward_is(".ab@example.org", "SRS0=", DAY), "a dot at the start is in the middle of the SRS address");
	/* SRS0= HASH(8) = 6J= example.org = LOCAL @fwd.example: 41 bytes and LOCAL */
	memset(big, 'a', sizeof big);
	memcpy(big + 213, "@example.org", 12);
	CHECK(srs_forward(&out, big, 225, S("fwd.example"), &keys, DAY) == SRS_OK && out.len == SRS_ADDR_MAX,
	      "a sender that makes an SRS address of 254 bytes is rewritten");
	memset(big, 'a', sizeof big);
	memcpy(big + 214, "@example.org", 12);
	CHECK(skipped(big, 226), "one byte more would pass SRS_ADDR_MAX (254): left as it is");

	/* many random senders, many days: every one comes back */
	failures = 0;
	for (i = 0; i < 2000; i++) {
		char s[80];
		size_t ln = 1 + rnd() % 30, dn = 1 + rnd() % 30, j;
		unsigned long day = DAY + rnd() % 5000;
		static const char chars[] = "abcXYZ019-_+=#$&'*/?^`{|}~";
		for (j = 0; j < ln; j++)
			s[j] = chars[rnd() % (sizeof chars - 1)];
		s[ln] = '@';
		for (j = 0; j < dn; j++)
			s[ln + 1 + j] = "abcdefXYZ0189-"[rnd() % 14];
		s[ln + 1 + dn - 1] = 'x'; /* a label may not end in a dot or start empty */
		s[ln + 1] = 'y';
		if (srs_forward(&out, s, ln + 1 + dn, S("fwd.example"), &keys, day) != SRS_OK ||
		    srs_reverse(&rev, out.s, addr_at(out.s, out.len), &keys, day + rnd() % 22) != SRS_OK ||
		    rev.len != ln + 1 + dn || memcmp(rev.s, s, rev.len) != 0)
			failures++;
	}
	CHECK(failures == 0, "2000 random senders round-trip on random days");

	CHECK(strcmp(srs_strerror(SRS_BADHASH), "SRS address with a bad signature") == 0 && srs_strerror(99),
	      "srs_strerror");
	str_free(&out);
	str_free(&rev);
	str_free(&two);
	str_free(&back);
	return check_done();
}
