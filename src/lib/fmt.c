#include <limits.h>
#include "fmt.h"

size_t fmt_ulong(char *buf, unsigned long long u)
{
	char tmp[FMT_ULONG];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (buf)
		for (i = 0; i < n; i++)
			buf[i] = tmp[n - 1 - i];
	return n;
}

char fmt_hexdigit(unsigned n)
{
	return "0123456789abcdef"[n & 15];
}

size_t fmt_hexbyte(char *out, unsigned char b)
{
	out[0] = fmt_hexdigit(b >> 4);
	out[1] = fmt_hexdigit(b);
	return 2;
}

size_t fmt_hex64(char *out, unsigned long long u)
{
	size_t i;

	for (i = 0; i < 16; i++)
		out[i] = fmt_hexdigit((unsigned)(u >> (60 - 4 * i)));
	return 16;
}

size_t fmt_xlong(char *buf, unsigned long long u)
{
	char tmp[FMT_ULONG];
	size_t n = 0, i;

	do {
		tmp[n++] = fmt_hexdigit((unsigned)(u & 15));
		u >>= 4;
	} while (u);
	if (buf)
		for (i = 0; i < n; i++)
			buf[i] = tmp[n - 1 - i];
	return n;
}

size_t scan_ulong(const char *s, size_t len, unsigned long long *u)
{
	unsigned long long r = 0;
	size_t i;

	for (i = 0; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
		unsigned d = (unsigned)(s[i] - '0');
		if (r > (ULLONG_MAX - d) / 10)
			return 0;
		r = r * 10 + d;
	}
	if (i)
		*u = r;
	return i;
}

int scan_ulong_all(const char *s, size_t len, unsigned long long *u)
{
	return len > 0 && len <= 20 && scan_ulong(s, len, u) == len;
}

int scan_hexdigit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int scan_hex(const char *s, size_t n, unsigned char *out)
{
	size_t i;

	if (n % 2)
		return 0;
	for (i = 0; i < n; i += 2) {
		int hi = scan_hexdigit(s[i]), lo = scan_hexdigit(s[i + 1]);
		if (hi < 0 || lo < 0)
			return 0;
		out[i / 2] = (unsigned char)(hi << 4 | lo);
	}
	return 1;
}
