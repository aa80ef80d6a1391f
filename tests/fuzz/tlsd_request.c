/* libFuzzer target for the record postern-tlsd takes from postern-smtpd
 * and postern-remote (src/postern-tlsd/request.c: request_parse, the part
 * of request_read after fdpass_recv; doc/tls.md, the request socket): the
 * input is the record.  Besides the sanitizers' checks it asserts what
 * main.c and engine.c rely on: a taken record is S alone, or C with policy
 * e, v, t or d and a name server_name_ok takes, NUL-terminated in its room;
 * with d 1 to TLSA_RECORDS_MAX records, each NUL-terminated in its room and
 * one tlsa_text_ok takes, with e, v and t none; the fields put back together
 * are the record exactly, so none is longer than RECORD_MAX; a refusal is
 * a short line of printable ASCII.  Built and run by tests/fuzz.sh. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "postern-tlsd/tlsd.h"
#include "servername.h"
#include "tlsa.h"

#define WHY_MAX 200 /* a refusal goes into a Z reply and a log line */

/* The length of s, NUL-terminated within its cap bytes, or abort. */
static size_t terminated(const char *s, size_t cap)
{
	const char *z = memchr(s, 0, cap);

	if (!z)
		abort();
	return (size_t)(z - s);
}

static void refused(const char *why)
{
	size_t i, len = strnlen(why, WHY_MAX + 1);

	if (len == 0 || len > WHY_MAX)
		abort();
	for (i = 0; i < len; i++)
		if (why[i] < 0x20 || why[i] > 0x7e)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct request req;
	static char back[RECORD_MAX + 1];
	const char *rec = (const char *)data;
	const char *why;
	size_t len, at, i;

	memset(&req, 0xa5, sizeof req); /* request_parse is to clear it itself */
	why = request_parse(rec, size, &req);
	if (why) {
		refused(why);
		return 0;
	}
	if (size > RECORD_MAX || size == 0 || req.mode != rec[0])
		abort();
	if (req.mode == 'S') {
		if (size != 1 || req.policy != 0 || req.name[0] != 0 || req.ntlsa != 0)
			abort();
		return 0;
	}
	if (req.mode != 'C')
		abort();
	if (req.policy != 'e' && req.policy != 'v' && req.policy != 't' && req.policy != 'd')
		abort();
	len = terminated(req.name, sizeof req.name);
	if (!server_name_ok(req.name, len))
		abort();
	if (req.policy == 'd' ? req.ntlsa < 1 || req.ntlsa > TLSA_RECORDS_MAX : req.ntlsa != 0)
		abort();
	/* put the record back together: it must be exactly the input */
	back[0] = 'C';
	back[1] = req.policy;
	memcpy(back + 2, req.name, len);
	at = 2 + len;
	for (i = 0; i < req.ntlsa; i++) {
		size_t tl = terminated(req.tlsa[i], sizeof req.tlsa[i]);

		if (!tlsa_text_ok(req.tlsa[i], tl))
			abort();
		back[at++] = 0;
		memcpy(back + at, req.tlsa[i], tl);
		at += tl;
	}
	if (at != size || memcmp(back, rec, size) != 0)
		abort();
	return 0;
}
