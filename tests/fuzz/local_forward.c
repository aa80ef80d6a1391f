/* libFuzzer target for the envelope of a forwarded copy
 * (src/postern-local/forward.c, forward_envelope): whatever DSN
 * parameters pass dsn_params_ok (what lspawn and postern-local accept),
 * whatever the recipient, and whatever forwards a dot file holds, the
 * envelope handed to postern-queue parses (envelope_parse, postern-queue's
 * own check), is marked forwarded, has one recipient for each forward,
 * and an expansion's copies never ask for SUCCESS.  The input: three
 * NUL-separated fields (MAILPARAMS, RCPTPARAMS, recipient), then a dot
 * file; its first byte says whether the forward is the delivery's one
 * destination.  Built and run by tests/fuzz.sh. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "envelope.h"
#include "esmtpdsn.h"
#include "postern-local/dotfile.h"
#include "postern-local/forward.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct str env = STR_INIT;
	struct dotfile d = { 0 };
	struct envelope e;
	char *buf, *f[3];
	size_t i, at = 1, line, nfwd = 0;
	int single;

	if (size < 1)
		return 0;
	single = data[0] & 1;
	buf = malloc(size);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	for (i = 0; i < 3; i++) {
		char *nul = memchr(buf + at, 0, size - at);
		if (!nul) {
			free(buf);
			return 0;
		}
		f[i] = buf + at;
		at = (size_t)(nul - buf) + 1;
	}
	if (!dsn_params_ok(f[0], strlen(f[0]), 0) || !dsn_params_ok(f[1], strlen(f[1]), 1) ||
	    dotfile_parse(&d, buf + at, size - at, &line) != DOT_OK) {
		free(d.e);
		free(buf);
		return 0;
	}
	for (i = 0; i < d.n; i++)
		nfwd += d.e[i].kind == DOT_FORWARD;
	if (!forward_envelope(&env, &d, d.n, single, "s@y.example", f[2], f[0], f[1]))
		abort();
	if (nfwd) {
		if (envelope_parse(&e, env.s, env.len) != ENV_OK || !e.forwarded || e.nrcpt != nfwd)
			abort();
		for (i = 0; i < e.nrcpt; i++)
			if (!single && e.notify && (e.notify[i] & DSN_NOTIFY_SUCCESS))
				abort();
		envelope_free(&e);
	}
	free(d.e);
	free(buf);
	return 0;
}
