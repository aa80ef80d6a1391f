#include <errno.h>
#include <stdint.h>
#include <string.h>
#include "check.h"
#include "str.h"
#include "fmt.h"
#include "fnv.h"
#include "log.h"
#include "netstring.h"

int main(void)
{
	struct str s = STR_INIT, t = STR_INIT;
	char buf[FMT_ULONG];
	unsigned long long u = 0;
	size_t i;

	CHECK(str_cats(&s, "abc") && s.len == 3 && s.s[3] == 0, "cats keeps a trailing NUL");
	CHECK(str_catz(&s) && s.len == 4 && s.s[3] == 0, "catz counts its NUL");
	CHECK(str_catu(&s, 18446744073709551615ULL) && memcmp(s.s + 4, "18446744073709551615", 20) == 0, "catu of 2^64-1");
	str_truncate(&s, 1);
	CHECK(s.len == 1 && str_equals(&s, "a"), "truncate");
	for (i = 0; i < 100000; i++)
		if (!str_catc(&s, 'x'))
			break;
	CHECK(s.len == 100001 && s.s[s.len] == 0, "grows to 100001 bytes");
	errno = 0;
	CHECK(!str_readyplus(&s, SIZE_MAX - 3) && errno == ENOMEM, "overflowing length refused");
	CHECK(!str_ready(&t, SIZE_MAX), "SIZE_MAX refused");
	CHECK(str_copys(&s, "new") && str_equals(&s, "new") && str_starts(&s, "ne"), "copy replaces");

	CHECK(fmt_ulong(buf, 0) == 1 && buf[0] == '0', "fmt 0");
	CHECK(scan_ulong("18446744073709551615", 20, &u) == 20 && u == 18446744073709551615ULL, "scan max");
	CHECK(scan_ulong("18446744073709551616", 20, &u) == 0, "scan overflow refused");
	CHECK(!scan_ulong_all("12x", 3, &u), "trailing junk refused");
	CHECK(fmt_xlong(buf, 255) == 2 && memcmp(buf, "ff", 2) == 0, "hex");
	CHECK(fmt_hexbyte(buf, 0x0a) == 2 && memcmp(buf, "0a", 2) == 0 && fmt_hexbyte(buf, 0xf9) == 2 &&
	          memcmp(buf, "f9", 2) == 0 && fmt_hexdigit(0x1c) == 'c',
	      "hexbyte: two lower-case digits; hexdigit: the low four bits");
	CHECK(fmt_hex64(buf, 0xaf63dc4c8601ec8cULL) == 16 && memcmp(buf, "af63dc4c8601ec8c", 16) == 0 &&
	          fmt_hex64(buf, 0x0a) == 16 && memcmp(buf, "000000000000000a", 16) == 0,
	      "hex64: sixteen lower-case digits, leading zeros kept");
	CHECK(fnv1a64("", 0) == 0xcbf29ce484222325ULL && fnv1a64("a", 1) == 0xaf63dc4c8601ec8cULL &&
	          fnv1a64("foobar", 6) == 0x85944171f73967e8ULL,
	      "fnv1a64: the published test vectors");

	s.len = 0;
	CHECK(log_escape(&s, "plain", 5) && str_equals(&s, "plain"), "plain log value");
	s.len = 0;
	CHECK(log_escape(&s, "a b\n\"", 5) && str_equals(&s, "\"a b\\x0a\\\"\""), "escaped log value");
	s.len = 0;
	CHECK(log_escape(&s, "", 0) && str_equals(&s, "\"\""), "empty value quoted");

	s.len = 0;
	CHECK(ns_cat(&s, "ab\0c", 4) && s.len == 7 && memcmp(s.s, "4:ab\0c,", 7) == 0, "netstring encode");
	{
		const char *f[2];
		size_t fl[2];
		t.len = 0;
		str_catb(&t, "ab\0c\0", 5);
		CHECK(ns_fields(&t, f, fl, 2) && fl[0] == 2 && fl[1] == 1 && f[1][0] == 'c', "fields split");
		CHECK(!ns_fields(&t, f, fl, 1), "extra field refused");
		t.len = 4;
		CHECK(!ns_fields(&t, f, fl, 2), "unterminated field refused");
	}
	t.len = 0;
	CHECK(str_ready(&t, 5000) && str_catb(&t, "ab\0c", 4), "a large buffer");
	str_shrink(&t);
	CHECK(t.cap == 5 && t.len == 4 && memcmp(t.s, "ab\0c", 5) == 0, "shrunk to its length and NUL, bytes kept");
	str_shrink(&t);
	CHECK(t.cap == 5 && str_catc(&t, 'd') && t.len == 5 && t.s[5] == 0, "shrunk again: no change; still grows");
	t.len = 0;
	CHECK(str_cathex(&t, (const unsigned char *)"\x00\x9f\xff", 3) && t.len == 6 && str_equals(&t, "009fff"),
	      "cathex: two lower-case digits a byte");
	CHECK(str_cathex(&t, (const unsigned char *)"", 0) && t.len == 6 && t.s[6] == 0, "cathex of nothing: no change");
	{
		unsigned char b[3] = { 0, 0, 0 };
		CHECK(scan_hex("009fff", 6, b) && !memcmp(b, "\x00\x9f\xff", 3), "scan_hex: back to the bytes");
		CHECK(!scan_hex("009ff", 5, b) && !scan_hex("009FFF", 6, b) && !scan_hex("0g", 2, b),
		      "scan_hex: an odd length, upper case or a non-digit refused");
	}
	str_free(&s);
	str_free(&t);
	return check_done();
}
