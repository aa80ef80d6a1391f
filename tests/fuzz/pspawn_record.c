/* libFuzzer target for the record root's postern-pspawn takes from
 * postern-auth (src/postern-pspawn/record.c, doc/pop3.md): U USER NUL
 * REMOTEIP NUL.  Besides the sanitizers' checks it asserts what the
 * root process relies on: a taken record copied USER and REMOTEIP whole
 * and NUL-terminated into the request, USER a login name and REMOTEIP of
 * the allowed bytes, and the record is exactly those two fields.  Built
 * and run by tests/fuzz.sh. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "postern-pspawn/pspawn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct request req;
	const char *rec = (const char *)data;
	size_t ulen, iplen, at;

	memset(&req, 0x55, sizeof req);
	if (record_parse(rec, size, &req) != 0)
		return 0;
	ulen = strnlen(req.user, sizeof req.user);
	iplen = strnlen(req.ip, sizeof req.ip);
	if (ulen == sizeof req.user || iplen == sizeof req.ip)
		abort(); /* not NUL-terminated */
	if (size != 1 + ulen + 1 + iplen + 1 || rec[0] != 'U' || memcmp(rec + 1, req.user, ulen + 1) != 0 ||
	    memcmp(rec + 2 + ulen, req.ip, iplen + 1) != 0)
		abort();
	if (!login_name(req.user, ulen, &at) || !remote_ip_ok(req.ip, iplen) || size > RECORD_MAX)
		abort();
	return 0;
}
