#include <errno.h>
#include <sys/random.h>
#include "rand.h"

int rand_bytes(void *buf, size_t len)
{
	unsigned char *p = buf;

	while (len > 0) {
		/* Flags 0: blocks only until the pool is first seeded at boot. */
		ssize_t r = getrandom(p, len, 0);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			return 0;
		}
		p += r;
		len -= (size_t)r;
	}
	return 1;
}

uint32_t rand_uniform(uint32_t upper)
{
	/* Values below 2^32 mod upper would make the low results likelier. */
	uint32_t r, floor;

	if (upper < 2)
		return 0;
	floor = (uint32_t)(-upper) % upper;
	do {
		if (!rand_bytes(&r, sizeof r))
			return 0;
	} while (r < floor);
	return r % upper;
}
