/* libFuzzer target for SRS (src/lib/srs.c): the local parts a stranger
 * sends to RCPT at control/srsdomain, and the senders postern-send
 * rewrites.  Checked:
 * - srs_reverse never takes a local part to something that is not a
 *   well-formed address, and takes nothing that is not SRS-shaped;
 * - a sender srs_forward rewrites becomes an address that passes
 *   addr_check, whose local part is SRS-shaped, and that srs_reverse
 *   (on any day up to SRS_MAXAGE_DAYS later, and after the address was
 *   lower-cased on the way) takes back: to the sender itself for SRS0,
 *   to an SRS0 address for SRS1;
 * - srs_keys_parse takes 1 to SRS_KEYS_MAX keys or nothing.
 * The input's first byte picks the day.  Built and run by tests/fuzz.sh. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "addr.h"
#include "case.h"
#include "envelope.h"
#include "srs.h"

static const struct srs_keys keys = { 1, { { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 } } };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *t = (const char *)data + 1;
	struct str out = STR_INIT, back = STR_INIT;
	struct srs_keys parsed;
	unsigned long day;
	size_t n;
	int r;

	if (size < 1)
		return 0;
	day = 20000UL + data[0] * 7UL;
	n = size - 1;

	r = srs_reverse(&out, t, n, &keys, day);
	if (r == SRS_OK && addr_check(out.s, out.len) != ADDR_OK)
		abort();
	if (r != SRS_NOT && !srs_local_is(t, n))
		abort();

	if (envelope_sender_ok(t, n) == ENV_OK && srs_forward(&out, t, n, "fwd.example", 11, &keys, day) == SRS_OK) {
		size_t at = addr_at(out.s, out.len);
		if (addr_check(out.s, out.len) != ADDR_OK || !srs_local_is(out.s, at) ||
		    srs_reverse(&back, out.s, at, &keys, day + data[0] % (SRS_MAXAGE_DAYS + 1)) != SRS_OK)
			abort();
		if (out.s[3] == '0' && !(back.len == n && memcmp(back.s, t, n) == 0))
			abort();
		if (out.s[3] == '1' && !case_eqn(back.s, "SRS0", 4))
			abort();
		lowercase(out.s, out.len);
		if (srs_reverse(&back, out.s, at, &keys, day) != SRS_OK || back.len > n + 8 ||
		    (out.s[3] == '0' && !case_eqb(back.s, back.len, t, n)))
			abort();
	}
	if (srs_keys_parse(&parsed, t, n) && (parsed.n < 1 || parsed.n > SRS_KEYS_MAX))
		abort();
	str_free(&out);
	str_free(&back);
	return 0;
}
