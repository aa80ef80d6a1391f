/* libFuzzer target for what postern-lspawn (root) parses: a request frame
 * from postern-send (ns_split + spawn_check) and, the input that matters
 * more, a postern-local's output, written by a process the recipient can
 * trace (spawn_results, and spawn_lines for one still running).  The first
 * byte picks which and, for results, how many messages (1 to
 * LOCAL_BATCH_MAX) and the wait status.  Besides the
 * sanitizers' checks it asserts what lspawn passes on: a status of K, H,
 * X, D or Z for every message and a text within TEXT_MAX + 64 bytes with no control
 * byte.  Built and run by tests/fuzz.sh. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "netstring.h"
#include "postern-lspawn/spawn.h"

static struct spawn_result res[LOCAL_BATCH_MAX];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t k, i, n;
	int status;

	if (size < 2)
		return 0;
	if (data[0] & 1) {
		const char *f[REQ_FIELDS];
		size_t fl[REQ_FIELDS];
		struct str p = { (char *)data + 1, size - 1, size - 1 };
		long nf = ns_split(&p, f, fl, REQ_FIELDS);
		if (nf < -1 || nf > (long)REQ_FIELDS)
			abort();
		if (nf >= 0) {
			int bad = spawn_check(f, fl, (size_t)nf);
			if (bad < -1 || bad > nf || !spawn_field_name(bad))
				abort();
		}
		return 0;
	}
	n = 1 + (size_t)(data[0] >> 1) % LOCAL_BATCH_MAX;
	/* an exit code or a signal, as waitpid reports them, or (0xff) a
	 * child still running, whose lines lspawn reads once all are whole */
	status = data[1] == 0xff ? SPAWN_RUNNING : data[1] & 0x80 ? (data[1] & 0x7f) % 65 : (data[1] << 8);
	if (status == SPAWN_RUNNING) {
		size_t need = spawn_lines((const char *)data + 2, size - 2, n), used = 1, good;
		if (need > size - 2 || (need && ((const char *)data)[2 + need - 1] != '\n'))
			abort();
		if (need == 0)
			return 0;
		good = spawn_results((const char *)data + 2, need, n, status, res, &used);
		if (good > n || (good == n) != (used == need) || (good < n && used != 0))
			abort();
	} else
		spawn_results((const char *)data + 2, size - 2, n, status, res, 0);
	for (k = 0; k < n; k++) {
		if (!memchr("KHXDZ", res[k].st, 5) || res[k].len == 0 || res[k].len > TEXT_MAX + 63)
			abort();
		for (i = 0; i < res[k].len; i++)
			if ((unsigned char)res[k].text[i] < 0x20 || res[k].text[i] == 0x7f)
				abort();
	}
	return 0;
}
