#include <string.h>
#include "uidl.h"
#include "fmt.h"

size_t uidl_uniq_len(const char *name, size_t len)
{
	const char *colon = memchr(name, ':', len);
	return colon ? (size_t)(colon - name) : len;
}

size_t uidl_make(char out[UIDL_MAX], const char *uniq, size_t n)
{
	unsigned long long h = 0xcbf29ce484222325ULL; /* FNV-1a 64's offset basis */
	size_t i;
	int safe = n >= 1 && n <= UIDL_MAX;

	for (i = 0; i < n && safe; i++)
		if ((unsigned char)uniq[i] < 0x21 || (unsigned char)uniq[i] > 0x7e)
			safe = 0;
	if (safe) {
		memcpy(out, uniq, n);
		return n;
	}
	for (i = 0; i < n; i++) {
		h ^= (unsigned char)uniq[i];
		h *= 0x100000001b3ULL; /* FNV's 64-bit prime */
	}
	out[0] = '~';
	for (i = 0; i < 16; i++)
		out[1 + i] = fmt_hexdigit((unsigned)(h >> (60 - 4 * i)));
	return 17;
}
