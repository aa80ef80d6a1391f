/* libFuzzer target for sendmail -t's reading of To, Cc and Bcc
 * (src/postern-inject/addrlist.c, addrlist_parse): any bytes a local user
 * or a program feeding sendmail puts in those fields.  Besides the
 * sanitizers' checks it asserts the shape of what comes out for a field
 * without NUL bytes (header.c refuses those before): a list of non-empty
 * NUL-terminated addresses, no longer in all than the field allows.  What
 * each address is worth is addr_check's to say, after this.
 * Built and run by tests/fuzz.sh. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "postern-inject/inject.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct str out = STR_INIT;
	const char *v = (const char *)data;
	size_t at = 0, addrs = 0;

	if (memchr(data, 0, size))
		return 0;
	if (!addrlist_parse(v, size, &out))
		abort(); /* only memory can make it fail */
	if (out.len && out.s[out.len - 1] != 0)
		abort();
	while (at < out.len) {
		size_t n = strlen(out.s + at);
		if (n == 0)
			abort(); /* an empty address */
		at += n + 1;
		addrs++;
	}
	/* each output byte is a byte of the field, or the one space that
	 * stands for a run of blanks, or an address's NUL */
	if (out.len > size + addrs)
		abort();
	str_free(&out);
	return 0;
}
