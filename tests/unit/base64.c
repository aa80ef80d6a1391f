/* src/lib/base64.c's decoder (the encoder is tested in remote_auth.c):
 * RFC 4648's vectors, every refusal of non-canonical input, bounds, and a
 * random round trip through the encoder. */
#include <string.h>
#include "check.h"
#include "lib/base64.c"

static int dec(const char *in, const char *want, size_t wantlen)
{
	unsigned char out[64];
	size_t n = 99;
	return b64_decode(in, strlen(in), out, sizeof out, &n) == 0 && n == wantlen && memcmp(out, want, n) == 0;
}

static int bad(const char *in)
{
	unsigned char out[64];
	size_t n = 99;
	return b64_decode(in, strlen(in), out, sizeof out, &n) == -1 && n == 0;
}

int main(void)
{
	unsigned char small[4], out[256], raw[256];
	char enc[400];
	size_t n;
	int i, ok = 1;

	CHECK(dec("", "", 0), "empty");
	CHECK(dec("Zg==", "f", 1), "f");
	CHECK(dec("Zm8=", "fo", 2), "fo");
	CHECK(dec("Zm9v", "foo", 3), "foo");
	CHECK(dec("Zm9vYg==", "foob", 4), "foob");
	CHECK(dec("Zm9vYmE=", "fooba", 5), "fooba");
	CHECK(dec("Zm9vYmFy", "foobar", 6), "foobar");
	CHECK(dec("AHVzZXIAcGFzcw==", "\0user\0pass", 10), "AUTH PLAIN's NULs");
	CHECK(dec("+/+/", "\xfb\xff\xbf", 3), "+ and /");
	CHECK(bad("Zg="), "length not a multiple of 4");
	CHECK(bad("Zg"), "no padding");
	CHECK(bad("Z==="), "three pads");
	CHECK(bad("===="), "only pads");
	CHECK(bad("Zg==Zg=="), "a pad before the end");
	CHECK(bad("Zm=v"), "a character after a pad");
	CHECK(bad("Zh=="), "bits left over under two pads");
	CHECK(bad("Zm9="), "bits left over under one pad");
	CHECK(bad("Zm9v\r\n"), "CRLF is not base64");
	CHECK(bad("Zm 9"), "a blank");
	CHECK(bad("Zm-_"), "the URL alphabet");
	CHECK(bad("Zm\0v"), "a NUL");
	CHECK(b64_decode("Zm9vYmFy", 8, small, 4, &n) == -1, "out too small: refused");
	CHECK(b64_decode("Zm9v", 4, small, 3, &n) == 0 && n == 3, "out just big enough");
	CHECK(b64_decode("Zg==", 4, small, 1, &n) == 0 && n == 1, "a pad needs no room");
	for (i = 0; i < 2000 && ok; i++) {
		size_t len = (size_t)(rnd() % 200), k, el;
		for (k = 0; k < len; k++)
			raw[k] = (unsigned char)rnd();
		el = b64_encode(raw, len, enc, sizeof enc);
		ok = b64_decode(enc, el, out, sizeof out, &n) == 0 && n == len && memcmp(out, raw, len) == 0;
	}
	CHECK(ok, "2,000 random round trips through the encoder");
	return check_done();
}
