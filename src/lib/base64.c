/* Base64 (RFC 4648, section 4, with padding) for SMTP AUTH and POP3's
 * AUTH PLAIN.  Bounded: the caller gives the size of out, and nothing is
 * written past it.  It holds no state of its own, so a secret passes
 * through registers and the caller's buffer only, which the caller
 * wipes. */
#include "base64.h"

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t b64_encode(const unsigned char *in, size_t n, char *out, size_t size)
{
	size_t i, o = 0, need;

	/* 4 bytes for every 3 started, and the NUL; n is at most a few
	 * hundred here, but the arithmetic is checked all the same */
	if (n > ((size_t)-1 - 3) / 4 * 3)
		return 0;
	need = (n + 2) / 3 * 4 + 1;
	if (size < need)
		return 0;
	for (i = 0; i + 2 < n; i += 3) {
		unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
		out[o++] = b64[v >> 18 & 63];
		out[o++] = b64[v >> 12 & 63];
		out[o++] = b64[v >> 6 & 63];
		out[o++] = b64[v & 63];
	}
	if (n - i == 1) {
		unsigned v = (unsigned)in[i] << 16;
		out[o++] = b64[v >> 18 & 63];
		out[o++] = b64[v >> 12 & 63];
		out[o++] = '=';
		out[o++] = '=';
	} else if (n - i == 2) {
		unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;
		out[o++] = b64[v >> 18 & 63];
		out[o++] = b64[v >> 12 & 63];
		out[o++] = b64[v >> 6 & 63];
		out[o++] = '=';
	}
	out[o] = 0;
	return o;
}

/* The value of one base64 character, or -1. */
static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int b64_decode(const char *in, size_t n, unsigned char *out, size_t size, size_t *outlen)
{
	size_t i, o = 0;

	*outlen = 0;
	if (n % 4)
		return -1;
	for (i = 0; i < n; i += 4) {
		int v[4], k, pad = 0;
		for (k = 0; k < 4; k++) {
			if (in[i + k] == '=' && i + 4 == n && k >= 2) {
				v[k] = 0;
				pad++;
				continue;
			}
			/* "ab=c": a pad may only be followed by a pad */
			if (pad || (v[k] = b64_value((unsigned char)in[i + k])) < 0)
				return -1;
		}
		if (size - o < (size_t)(3 - pad))
			return -1;
		{
			unsigned w = (unsigned)v[0] << 18 | (unsigned)v[1] << 12 | (unsigned)v[2] << 6 | (unsigned)v[3];
			/* the bits a pad leaves over must be zero (RFC 4648 3.5): one
			 * text, one encoding */
			if ((pad == 1 && (w & 0xff)) || (pad == 2 && (w & 0xffff)))
				return -1;
			out[o++] = (unsigned char)(w >> 16);
			if (pad < 2)
				out[o++] = (unsigned char)(w >> 8);
			if (pad < 1)
				out[o++] = (unsigned char)w;
		}
	}
	*outlen = o;
	return 0;
}
