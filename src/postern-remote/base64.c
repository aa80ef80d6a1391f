/* Base64 (RFC 4648, section 4, with padding) for SMTP AUTH.  Bounded: the
 * caller gives the size of out, and nothing is written past it.  It holds
 * no table of its own state, so a secret passes through registers and the
 * caller's buffer only, which the caller wipes. */
#include "remote.h"

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
