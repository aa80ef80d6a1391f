/* postern-srs's answers (src/postern-srs/answer.c): each record of
 * srsask.h answered as doc/srs.md says, what postern-srs signs reversed
 * by what it reverses, an F from a uid that may not sign refused, a
 * record of the wrong shape refused, and Z with the reason when there is
 * no usable key. */
#include <string.h>
#include "check.h"
#include "postern-srs/answer.c"

#define DAY 20425UL
#define KEY1 "000102030405060708090a0b0c0d0e0f"
#define KEY2 "f0e0d0c0b0a090807060504030201000"

static struct srs_keys keys, second_only;
static char ans[SRS_ANSWER_MAX];
static size_t an;
static enum srsd_kind kind;
static int result;
static const char *refusal;

/* asks rec (n bytes) */
static size_t ask(const char *rec, size_t n, int may_sign, const struct srs_keys *k, unsigned long day)
{
	refusal = 0;
	result = -1;
	kind = (enum srsd_kind)-1;
	memset(ans, 0, sizeof ans);
	an = srsd_answer(rec, n, may_sign, k, "no such file", day, ans, &kind, &result, &refusal);
	return an;
}
#define ASK(lit, sign, k, day) ask((lit), sizeof(lit) - 1, (sign), (k), (day))

static int answered(const char *want)
{
	size_t n = strlen(want);
	int ok = an == n && memcmp(ans, want, n) == 0;
	if (!ok)
		printf("# answer %.*s, want %s\n", (int)an, ans, want);
	return ok;
}

/* R for the address in ans after its K (the local part before '@') */
static int reverse_of_answer(const struct srs_keys *k, unsigned long day, char *back, size_t cap)
{
	char rec[1 + SRS_ADDR_MAX];
	const char *at = memchr(ans, '@', an);
	size_t ln;

	if (an < 2 || ans[0] != 'K' || !at)
		return 0;
	ln = (size_t)(at - ans - 1);
	rec[0] = 'R';
	memcpy(rec + 1, ans + 1, ln);
	if (!ask(rec, 1 + ln, 0, k, day) || an > cap)
		return 0;
	memcpy(back, ans, an);
	back[an] = 0;
	return 1;
}

int main(void)
{
	char back[SRS_ANSWER_MAX + 1], rec[SRS_REQUEST_MAX + 2];
	static const char sender[] = "Falice@example.org\0fwd.example";

	progname = "postern-srs";
	CHECK(srs_keys_parse(&keys, KEY1 "\n" KEY2 "\n", 66) && srs_keys_parse(&second_only, KEY2 "\n", 33), "keys");

	CHECK(ASK(sender, 1, &keys, DAY) && kind == SRSD_SIGN && result == SRS_OK && an == 47 &&
	          memcmp(ans, "KSRS0=", 6) == 0 && memcmp(ans + 17, "=example.org=alice@fwd.example", 30) == 0,
	      "F alice@example.org into fwd.example: K SRS0=HHHHHHHH=TT=example.org=alice@fwd.example");
	CHECK(reverse_of_answer(&keys, DAY, back, sizeof back - 1) && kind == SRSD_REVERSE && result == SRS_OK &&
	          strcmp(back, "Kalice@example.org") == 0,
	      "  R of it: K alice@example.org");
	CHECK(ASK(sender, 1, &keys, DAY) && reverse_of_answer(&keys, DAY + SRS_MAXAGE_DAYS, back, sizeof back - 1) &&
	          strcmp(back, "Kalice@example.org") == 0, "  still good after SRS_MAXAGE_DAYS");
	CHECK(ASK(sender, 1, &keys, DAY) && reverse_of_answer(&keys, DAY + SRS_MAXAGE_DAYS + 1, back, sizeof back - 1) &&
	          strcmp(back, "E") == 0 && result == SRS_EXPIRED, "  E a day later");
	CHECK(ASK(sender, 1, &keys, DAY) && reverse_of_answer(&second_only, DAY, back, sizeof back - 1) &&
	          strcmp(back, "B") == 0 && result == SRS_BADHASH, "  B with only the second key: the first signs");
	CHECK(ASK("Fbob@[192.0.2.1]\0fwd.example", 1, &keys, DAY) && answered("S") && result == SRS_SKIP,
	      "F of an address literal: S, left as it is");
	CHECK(ASK("F\"a b\"@example.org\0fwd.example", 1, &keys, DAY) && answered("S"), "F of a quoted local part: S");
	CHECK(ASK("FSRS0=ABCDEF=AB=example.org=alice@first.example\0fwd.example", 1, &keys, DAY) &&
	          memcmp(ans, "KSRS1=", 6) == 0 && result == SRS_OK,
	      "F of another host's SRS0 address: K SRS1=...");

	CHECK(ASK("Ralice", 0, &keys, DAY) && answered("N") && result == SRS_NOT, "R of a plain local part: N");
	CHECK(ASK("RSRS0=ABCDEFGH", 0, &keys, DAY) && answered("M") && result == SRS_MALFORMED, "R of a torn one: M");
	CHECK(ASK("RSRS0=ABCDEFGH=AB=example.org=alice", 0, &keys, DAY) && answered("B") && result == SRS_BADHASH,
	      "R of a forged one: B");
	CHECK(ASK("RSRS0=ABCDEFGH=AB=example.org=alice", 1, &keys, DAY) && answered("B"), "  the same for a signer");

	CHECK(!ASK(sender, 0, &keys, DAY) && kind == SRSD_SIGN && refusal &&
	          strcmp(refusal, "F record from a uid that may not sign") == 0,
	      "F from a uid that may not sign: refused, unanswered");
	CHECK(!ASK(sender, 0, 0, DAY) && refusal, "  even without a key");
	CHECK(ASK(sender, 1, 0, DAY) && answered("Zno such file") && result == SRS_UNAVAILABLE,
	      "F without a usable key: Z and the reason");
	CHECK(ASK("RSRS0=ABCDEFGH=AB=example.org=alice", 0, 0, DAY) && answered("Zno such file") &&
	          result == SRS_UNAVAILABLE, "R without a usable key: Z and the reason");
	an = srsd_answer("Ralice", 6, 0, 0, 0, DAY, ans, &kind, &result, &refusal);
	CHECK(an == 14 && memcmp(ans, "Zno usable key", 14) == 0, "  a Z without a reason given says no usable key");

	CHECK(!ask("", 0, 1, &keys, DAY) && refusal && strcmp(refusal, "empty record") == 0, "an empty record: refused");
	CHECK(!ASK("Xalice", 1, &keys, DAY) && strcmp(refusal, "unknown record") == 0, "an unknown letter: refused");
	CHECK(!ASK("Falice@example.org", 1, &keys, DAY) && strstr(refusal, "no NUL"), "F without the NUL: refused");
	CHECK(!ASK("F\0fwd.example", 1, &keys, DAY) && strstr(refusal, "not a sender"), "F with an empty sender: refused");
	CHECK(!ASK("Fa\nb@example.org\0fwd.example", 1, &keys, DAY) && strstr(refusal, "not a sender"),
	      "F with a control character in the sender: refused");
	CHECK(!ASK("Falice@example.org\0", 1, &keys, DAY) && strstr(refusal, "not a domain"),
	      "F with an empty domain: refused");
	CHECK(!ASK("Falice@example.org\0[192.0.2.1]", 1, &keys, DAY) && strstr(refusal, "not a domain"),
	      "F into an address literal: refused");
	CHECK(!ASK("Falice@example.org\0fwd.example\0x", 1, &keys, DAY) && strstr(refusal, "not a domain"),
	      "F with a second NUL: refused");
	CHECK(!ASK("R", 0, &keys, DAY) && strstr(refusal, "not a local part"), "R with nothing: refused");
	CHECK(!ASK("RSRS0=\x01", 0, &keys, DAY) && strstr(refusal, "not a local part"), "R with a control character: refused");
	rec[0] = 'R';
	memset(rec + 1, 'a', SRS_ADDR_MAX + 1);
	CHECK(ask(rec, 1 + SRS_ADDR_MAX, 0, &keys, DAY) && answered("N"), "R of SRS_ADDR_MAX bytes: answered");
	CHECK(!ask(rec, 2 + SRS_ADDR_MAX, 0, &keys, DAY) && refusal, "  one byte more: refused");
	rec[0] = 'F';
	memset(rec + 1, 'a', SRS_ADDR_MAX + 1);
	rec[1 + SRS_ADDR_MAX - 12] = '@';
	memcpy(rec + 1 + SRS_ADDR_MAX - 11, "example.org", 11);
	rec[1 + SRS_ADDR_MAX] = 0;
	memcpy(rec + 2 + SRS_ADDR_MAX, "fwd.example", 11);
	CHECK(ask(rec, 2 + SRS_ADDR_MAX + 11, 1, &keys, DAY) && answered("S"),
	      "F of a sender of SRS_ADDR_MAX bytes: S (its SRS address would not fit)");
	return check_done();
}
