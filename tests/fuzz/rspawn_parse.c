/* libFuzzer target for what postern-rspawn parses: a job from
 * postern-send (rspawn_parse) and a postern-remote's output, split per
 * message and turned into result frames (rspawn_split, rspawn_result).
 * The first byte picks which.  Besides the sanitizers' checks it asserts
 * what rspawn relies on: a parsed job has 1 to MSGS_MAX messages and at
 * most RCPTS_MAX recipients, each of the job's domain, and every DSN
 * parameter string passes dsn_params_ok and holds no CR or LF; a split gives the
 * messages it holds whole, one after the other from the first; every result frame starts with
 * the job id and has the message status and one pair per recipient.
 * Built and run by tests/fuzz.sh. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "esmtpdsn.h"
#include "netstring.h"
#include "postern-rspawn/rspawn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct request rq;
	struct str p = { 0, 0, 0 };
	size_t k, i;

	if (size < 2)
		return 0;
	if (data[0] & 1) {
		struct str in = { (char *)data + 1, size - 1, size - 1 };
		size_t total = 0;
		if (rspawn_parse(&in, &rq) == 0) {
			if (rq.nm < 1 || rq.nm > MSGS_MAX)
				abort();
			for (k = 0; k < rq.nm; k++) {
				if (rq.m[k].n < 1 || !dsn_params_ok(rq.m[k].params, strlen(rq.m[k].params), 0) ||
				    strpbrk(rq.m[k].params, "\r\n"))
					abort();
				total += rq.m[k].n;
				for (i = 0; i < rq.m[k].n; i++) {
					const char *rp = rq.m[k].rcpt[2 * i + 1];
					if (!strchr(rq.m[k].rcpt[2 * i], '@') || !dsn_params_ok(rp, strlen(rp), 1) ||
					    strpbrk(rp, "\r\n"))
						abort();
				}
			}
			if (total > RCPTS_MAX)
				abort();
		}
		return 0;
	}
	{
		size_t n[MSGS_MAX], start[MSGS_MAX], len[MSGS_MAX], nm = 1 + (size_t)(data[0] >> 1) % 4, pos = 0;
		const char *out = (const char *)data + 2;
		size_t olen = size - 2;
		int status = data[1] & 0x80 ? (data[1] & 0x7f) % 65 : (data[1] << 8);
		for (k = 0; k < nm; k++)
			n[k] = 1 + (size_t)((data[1] >> k) & 3);
		int exact;
		size_t whole = rspawn_split(out, olen, n, nm, start, len, &exact);
		if (whole > nm || (exact && whole != nm))
			abort();
		for (k = 0; k < whole; k++) {
			if (start[k] != pos || len[k] == 0)
				abort();
			pos += len[k];
		}
		if (pos > olen || (exact && pos != olen))
			abort();
		for (k = 0; k < nm; k++) {
			size_t nul = 0;
			if (!rspawn_result(&p, "7", n[k], out, olen, status))
				abort();
			for (i = 0; i < p.len; i++)
				nul += p.s[i] == 0;
			/* JOB, MSTATUS, MTEXT, then STATUS and TEXT per recipient */
			if (p.len < 2 || memcmp(p.s, "7", 2) != 0 || nul != 3 + 2 * n[k] || p.s[p.len - 1] != 0)
				abort();
		}
	}
	free(p.s);
	return 0;
}
