/* RFC 4648 base64, with padding, bounded both ways. */
#ifndef POSTERN_BASE64_H
#define POSTERN_BASE64_H
#include <stddef.h>
/* base64 of in, NUL-terminated in out: the length, 0 when out (size
 * bytes) is too small.  Never writes past out + size. */
size_t b64_encode(const unsigned char *in, size_t n, char *out, size_t size);
/* The bytes in (n characters) stands for, into out (size bytes): 0 with
 * *outlen set; -1 for anything but canonical base64 (a length not a
 * multiple of 4, a character outside the alphabet, a pad not at the end,
 * bits left over under a pad) or an out too small.  Never writes past
 * out + size. */
int b64_decode(const char *in, size_t n, unsigned char *out, size_t size, size_t *outlen);
#endif
