/* libFuzzer target for postern-srs's answer to a request
 * (src/postern-srs/answer.c).  The first byte chooses whether the peer
 * may sign and whether there is a key; the rest is the record.  Besides
 * the sanitizers' checks it asserts what an answer is: one of srsask.h's
 * letters, K with an address that passes addr_check, and for K to an F
 * an address whose R gives the sender back.  Built and run by
 * tests/fuzz.sh. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "postern-srs/answer.h"
#include "addr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct srs_keys keys = { 2, { { 1, 2, 3 }, { 4, 5, 6 } } };
	char ans[SRS_ANSWER_MAX], back[SRS_ANSWER_MAX], rec[1 + SRS_ADDR_MAX];
	enum srsd_kind kind;
	const char *refusal = 0, *at;
	int result, r2;
	size_t an, bn;

	if (size < 1)
		return 0;
	an = srsd_answer((const char *)data + 1, size - 1, data[0] & 1, data[0] & 2 ? 0 : &keys, "why", 20425,
	                 ans, &kind, &result, &refusal);
	if (an == 0) {
		if (!refusal)
			abort();
		return 0;
	}
	if (an > SRS_ANSWER_MAX || !strchr("KSNMBEZ", ans[0]))
		abort();
	if (ans[0] != 'K')
		return 0;
	if (addr_check(ans + 1, an - 1) != ADDR_OK)
		abort();
	if (kind != SRSD_SIGN)
		return 0;
	/* what was signed reverses to the sender it was made of */
	at = memchr(ans + 1, '@', an - 1);
	if (!at)
		abort();
	rec[0] = 'R';
	memcpy(rec + 1, ans + 1, (size_t)(at - ans - 1));
	bn = srsd_answer(rec, (size_t)(at - ans), 0, &keys, "why", 20425, back, &kind, &r2, &refusal);
	if (bn < 2 || back[0] != 'K')
		abort();
	/* an SRS0 or SRS1 sender of another host comes back as what its
	 * own first forwarder signed, not byte for byte */
	if (strncasecmp((const char *)data + 2, "SRS", 3) != 0 &&
	    (bn - 1 != strnlen((const char *)data + 2, size - 2) || memcmp(back + 1, data + 2, bn - 1) != 0))
		abort();
	return 0;
}
