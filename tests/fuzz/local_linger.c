/* libFuzzer target for the check of a lingering postern-local's request
 * records (src/postern-local/linger.c, linger_parse).  The first byte is
 * the number of files that came with the record, the rest the record.
 * Besides the sanitizers' checks it asserts what an accepted record is:
 * LOCAL_MSG_ARGS * n fields that tile it exactly, each ending in its NUL.  Built and run by
 * tests/fuzz.sh. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "postern-local/linger.h"
#include "batch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *field[LOCAL_MSG_ARGS * LOCAL_BATCH_MAX];
	char *rec;
	size_t len, nfd, i, at = 0;
	long n;

	if (size < 1)
		return 0;
	nfd = data[0] % (LOCAL_BATCH_MAX + 4);
	len = size - 1;
	rec = malloc(len ? len : 1);
	if (!rec)
		return 0;
	memcpy(rec, data + 1, len);
	n = linger_parse(rec, len, nfd, field);
	if (n != -1) {
		if (n != (long)nfd || nfd < 1 || nfd > LOCAL_BATCH_MAX)
			abort();
		for (i = 0; i < LOCAL_MSG_ARGS * nfd; i++) {
			size_t fl;
			if (field[i] != rec + at)
				abort();
			fl = strlen(field[i]);
			at += fl + 1;
			if (at > len)
				abort();
		}
		if (at != len)
			abort();
	}
	free(rec);
	return 0;
}
