/* ascii.h against definitions written another way (membership of a
 * spelled-out set), for every byte value, passed as a char and as an
 * unsigned char: where char is signed the bytes of 0x80 and over arrive
 * negative, which is what the header promises to take. */
#include <stdio.h>
#include <string.h>
#include "check.h"
#include "ascii.h"

#define DIGIT "0123456789"
#define LOWER "abcdefghijklmnopqrstuvwxyz"
#define UPPER "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

/* b (0 to 255) is in set: strchr would find the NUL, and takes its
 * argument as a char, so neither 0 nor an 8-bit byte is asked of it */
static int in(const char *set, unsigned b) { return b != 0 && b < 0x80 && strchr(set, (int)b) != 0; }

static int want(const char *name, unsigned b)
{
	if (strcmp(name, "ascii_digit") == 0)
		return in(DIGIT, b);
	if (strcmp(name, "ascii_lower") == 0)
		return in(LOWER, b);
	if (strcmp(name, "ascii_upper") == 0)
		return in(UPPER, b);
	if (strcmp(name, "ascii_alpha") == 0)
		return in(LOWER UPPER, b);
	if (strcmp(name, "ascii_alnum") == 0)
		return in(LOWER UPPER DIGIT, b);
	if (strcmp(name, "ascii_wsp") == 0)
		return in(" \t", b);
	if (strcmp(name, "ascii_wsp_cr") == 0)
		return in(" \t\r", b);
	/* ascii_vchar: RFC 5234's %x21-7E */
	return b >= 0x21 && b <= 0x7e;
}

static const struct {
	const char *name;
	int (*f)(int);
} classes[] = {
	{ "ascii_digit", ascii_digit }, { "ascii_lower", ascii_lower }, { "ascii_upper", ascii_upper },
	{ "ascii_alpha", ascii_alpha }, { "ascii_alnum", ascii_alnum },
	{ "ascii_wsp", ascii_wsp },     { "ascii_wsp_cr", ascii_wsp_cr }, { "ascii_vchar", ascii_vchar },
};

static unsigned lowered(unsigned b)
{
	const char *p = in(UPPER, b) ? strchr(UPPER, (int)b) : 0;
	return p ? (unsigned char)LOWER[p - UPPER] : b;
}

/* one check a function and a type, naming the first byte it gets wrong */
static void check_all(const char *what, int (*wrong)(unsigned b))
{
	char name[96];
	unsigned b;

	for (b = 0; b < 256 && !wrong(b); b++)
		;
	if (b == 256)
		snprintf(name, sizeof name, "%s: all 256 bytes", what);
	else
		snprintf(name, sizeof name, "%s: byte 0x%02x", what, b);
	CHECK(b == 256, name);
}

static size_t k_; /* the class check_all is asking about */
static int class_char(unsigned b) { return classes[k_].f((char)b) != want(classes[k_].name, b); }
static int class_uchar(unsigned b) { return classes[k_].f((unsigned char)b) != want(classes[k_].name, b); }
/* the result goes back into the type it came from, the same byte but for
 * A to Z; a char's 8-bit byte comes back as the same negative value, so
 * that comparing two results compares bytes */
static int tolower_char(unsigned b) { return ascii_tolower((char)b) != (char)lowered(b); }
static int tolower_uchar(unsigned b) { return ascii_tolower((unsigned char)b) != (int)lowered(b); }

int main(void)
{
	char what[64];

	printf("# char is %s here\n", (char)0x80 < 0 ? "signed" : "unsigned");
	for (k_ = 0; k_ < sizeof classes / sizeof classes[0]; k_++) {
		snprintf(what, sizeof what, "%s as char", classes[k_].name);
		check_all(what, class_char);
		snprintf(what, sizeof what, "%s as unsigned char", classes[k_].name);
		check_all(what, class_uchar);
	}
	check_all("ascii_tolower as char", tolower_char);
	check_all("ascii_tolower as unsigned char", tolower_uchar);
	return check_done();
}
