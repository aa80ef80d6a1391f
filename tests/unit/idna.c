/* idna_to_ascii: RFC 3492's own samples and names people use, the
 * labels RFC 5891 refuses, UTF-8 that is not (RFC 3629), and the lengths
 * DNS allows.
 *
 * With -e it is a filter instead, one name a line in, its A-label form or
 * "BAD" out: tests/t-idna.py puts thousands of random names through it
 * and through Python's own Punycode codec and compares. */
#include <string.h>
#include "check.h"
#include "idna.h"

static int gives(const char *in, const char *want)
{
	struct str out = STR_INIT;
	int ok = idna_to_ascii(in, strlen(in), &out) == IDNA_OK && out.len == strlen(want) &&
	         memcmp(out.s, want, out.len) == 0;

	if (!ok)
		printf("# %s -> %.*s (want %s)\n", in, (int)out.len, out.s ? out.s : "", want);
	str_free(&out);
	return ok;
}

static int refused(const char *in, size_t n)
{
	struct str out = STR_INIT;
	int r = idna_to_ascii(in, n, &out);

	str_free(&out);
	return r == IDNA_BAD;
}
#define REFUSED(s) refused(s, sizeof s - 1)

static int filter(void)
{
	char line[2048];
	struct str out = STR_INIT;

	while (fgets(line, sizeof line, stdin)) {
		size_t n = strcspn(line, "\n");
		if (idna_to_ascii(line, n, &out) == IDNA_OK)
			printf("%.*s\n", (int)out.len, out.s);
		else
			printf("BAD\n");
	}
	str_free(&out);
	return fflush(stdout) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	char long_label[80], long_name[300];
	size_t i;

	if (argc == 2 && strcmp(argv[1], "-e") == 0)
		return filter();

	CHECK(gives("example.org", "example.org") && gives("Example.ORG", "Example.ORG"),
	      "an ASCII name is copied as it is, case and all");
	CHECK(gives("b\xc3\xbc" "cher.example", "xn--bcher-kva.example"), "bücher.example");
	CHECK(gives("m\xc3\xbc" "nchen.de", "xn--mnchen-3ya.de"), "münchen.de");
	CHECK(gives("\xe4\xbe\x8b\xe3\x81\x88.\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88", "xn--r8jz45g.xn--zckzah"),
	      "例え.テスト: every label");
	CHECK(gives("mail.\xd0\xbf\xd1\x80\xd0\xb8\xd0\xbc\xd0\xb5\xd1\x80.org", "mail.xn--e1afmkfd.org"),
	      "mail.пример.org: only the label that needs it");
	CHECK(gives("B\xc3\xbc" "CHER.example", "xn--bcher-kva.example"),
	      "ASCII letters in a label that needs Punycode are lowered (DNS would not tell them apart)");
	/* RFC 3492 7.1 */
	CHECK(gives("\xd9\x84\xd9\x8a\xd9\x87\xd9\x85\xd8\xa7\xd8\xa8\xd8\xaa\xd9\x83\xd9\x84\xd9\x85\xd9\x88"
	            "\xd8\xb4\xd8\xb9\xd8\xb1\xd8\xa8\xd9\x8a\xd8\x9f",
	            "xn--egbpdaj6bu4bxfgehfvwxn"), "RFC 3492 7.1 (A), Arabic");
	CHECK(gives("\xe4\xbb\x96\xe4\xbb\xac\xe4\xb8\xba\xe4\xbb\x80\xe4\xb9\x88\xe4\xb8\x8d\xe8\xaf\xb4"
	            "\xe4\xb8\xad\xe6\x96\x87", "xn--ihqwcrb4cv8a8dqg056pqjye"),
	      "RFC 3492 7.1 (B), Chinese (simplified)");
	CHECK(gives("3\xe5\xb9\xb4" "B\xe7\xb5\x84\xe9\x87\x91\xe5\x85\xab\xe5\x85\x88\xe7\x94\x9f",
	            "xn--3b-ww4c5e180e575a65lsy2b"), "RFC 3492 7.1 (L), its B lowered");
	CHECK(gives("\xf0\x9f\x93\xa7.example", "xn--du8h.example"), "a code point past the BMP (U+1F4E7)");
	CHECK(gives("\xc3\xa9\xc3\xa8\xc3\xaa\xc3\xab-\xc3\xa0\xc3\xa2", "xn----sfagvehh"), "a hyphen inside a label");

	CHECK(REFUSED("-b\xc3\xbc" "cher.example") && REFUSED("b\xc3\xbc" "cher-.example") &&
	      REFUSED("ab--\xc3\xbc.example") && REFUSED("\xc3\xa4" "b--c.example"),
	      "RFC 5891's hyphens: first, last, third and fourth (characters, not bytes: äb--c)");
	CHECK(gives("\xc3\xbc--x.example", "xn----x-goa.example") && gives("\xc3\xbc-x.example", "xn---x-wka.example"),
	      "hyphens elsewhere are letters like any other (ü--x: the second and third characters)");
	CHECK(REFUSED("b\xc3") && REFUSED("b\xc3\xbc\xbc.x") && REFUSED("\xc0\xaf.x") && REFUSED("\xe0\x80\xaf.x") &&
	      REFUSED("\xed\xa0\x80.x") && REFUSED("\xf4\x90\x80\x80.x") && REFUSED("\xff.x") && REFUSED("\x80.x"),
	      "not UTF-8: cut short, a stray continuation, overlong, a surrogate, past U+10FFFF, 0xff");
	CHECK(REFUSED("b\xc3\xbc" "ch*r.example") && REFUSED("b\xc3\xbc" "ch_r.example") &&
	      REFUSED("b\xc3\xbc" "ch r.example") && REFUSED("b\xc2\x85" "cher.example") && gives("a_b.example", "a_b.example"),
	      "in a label that needs encoding, ASCII other than LDH, or a C1 control, is refused (an ASCII one is let be)");
	CHECK(REFUSED("") && REFUSED(".") && REFUSED("a..b") && REFUSED(".a") && REFUSED("a."),
	      "an empty name or label (a dot first, last or doubled)");
	memset(long_label, 'a', 64);
	long_label[64] = 0;
	CHECK(refused(long_label, 64) && !refused(long_label, 63), "an ASCII label of 64 bytes; 63 is fine");
	/* 20 of U+00FC: "xn--" and 24 letters; 60 of them cannot fit 63 */
	for (i = 0; i < 60; i++)
		memcpy(long_name + 2 * i, "\xc3\xbc", 2);
	CHECK(!refused(long_name, 40) && refused(long_name, 120), "an A-label of over 63 bytes");
	for (i = 0; i < 127; i++)
		memcpy(long_name + 2 * i, "a.", 2);
	CHECK(!refused(long_name, 253) && refused(long_name, 255), "a name of 253 bytes; 255 is too long");
	memcpy(long_name, "\xc3\xbc", 2); /* the first label is now "\u00fca": xn--a-tga */
	CHECK(refused(long_name, 253), "and one that grows past 253 as A-labels");
	return check_done();
}
