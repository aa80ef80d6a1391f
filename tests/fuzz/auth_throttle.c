/* libFuzzer target for the file postern-auth reads its throttle's counts
 * from at start (src/postern-auth/throttle.c, doc/pop3.md "Byte formats").
 * Linked from the source, as tests/unit/auth_throttle.c is, to see the
 * table.  Besides the sanitizers' checks it asserts what throttle_blocked
 * and throttle_failed rely on: every line is either kept or skipped, a
 * kept entry's key has family 4 or 6 and appears once, its count is 1 to
 * 2^32-1 and its window began at most THROTTLE_WINDOW - 1 seconds before
 * now and not after it.  Built and run by tests/fuzz.sh. */
#include <stdint.h>
#include <stdlib.h>
#include "postern-auth/throttle.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct throttle_loaded got = { 0, 0, 0 };
	const time_t now = 5000, wall = 1800000000;
	size_t i, j, lines = 0;

	used = 0;
	throttle_init(3);
	throttle_parse(text, size, now, wall, &got);
	for (i = sizeof STATE_HEAD - 1; i < size; i++)
		if (text[i] == '\n')
			lines++;
	if (size > sizeof STATE_HEAD - 1 && text[size - 1] != '\n')
		lines++;
	if (got.problem ? got.kept || got.skipped : got.kept + got.skipped != lines || got.kept != used)
		abort();
	for (i = 0; i < used; i++) {
		if ((slots[i].key[0] != 4 && slots[i].key[0] != 6) || slots[i].count == 0 ||
		    slots[i].count > 0xffffffffUL || now - slots[i].since < 0 || now - slots[i].since >= THROTTLE_WINDOW)
			abort();
		for (j = 0; j < i; j++)
			if (!memcmp(slots[i].key, slots[j].key, IPKEY_LEN))
				abort();
	}
	return 0;
}
