/* libFuzzer target for postern-local's POSTERN_IDENTITY parser
 * (src/lib/identity.c).  Besides the sanitizers' checks it asserts
 * that only the one canonical form is accepted: whatever identity_parse
 * accepts, written back out (decimal, no leading zero, ':' and ','), is
 * byte for byte the input.  Built and run by tests/fuzz.sh. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "identity.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct identity id;
	char *s = malloc(size + 1), *back;
	size_t i, len = 0, cap = size + 32;
	int r;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = 0; /* an environment value ends at its first NUL */
	r = identity_parse(s, &id);
	if (r == 1) {
		if (id.ngroups > IDENTITY_GROUPS_MAX || (id.ngroups == 0) != (id.groups == 0))
			abort();
		back = malloc(cap);
		if (!back)
			abort();
		len = (size_t)snprintf(back, cap, "%u:%u:", (unsigned)id.uid, (unsigned)id.gid);
		for (i = 0; i < id.ngroups && len < cap; i++)
			len += (size_t)snprintf(back + len, cap - len, i ? ",%u" : "%u", (unsigned)id.groups[i]);
		if (len >= cap || strcmp(back, s) != 0)
			abort();
		free(back);
		free(id.groups);
	} else if (r != 0 || id.groups != 0) {
		abort(); /* no memory failure is expected here, and nothing kept on refusal */
	}
	free(s);
	return 0;
}
