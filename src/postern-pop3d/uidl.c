#include <string.h>
#include "uidl.h"
#include "fmt.h"
#include "fnv.h"

size_t uidl_uniq_len(const char *name, size_t len)
{
	const char *colon = memchr(name, ':', len);
	return colon ? (size_t)(colon - name) : len;
}

size_t uidl_make(char out[UIDL_MAX], const char *uniq, size_t n)
{
	size_t i;
	int safe = n >= 1 && n <= UIDL_MAX;

	for (i = 0; i < n && safe; i++)
		if ((unsigned char)uniq[i] < 0x21 || (unsigned char)uniq[i] > 0x7e)
			safe = 0;
	if (safe) {
		memcpy(out, uniq, n);
		return n;
	}
	out[0] = '~';
	return 1 + fmt_hex64(out + 1, fnv1a64(uniq, n));
}
