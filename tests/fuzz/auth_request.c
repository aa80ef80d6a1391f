/* libFuzzer target for the record postern-auth takes from postern-popup
 * and postern-smtpd (src/postern-auth/request.c, doc/pop3.md): the first
 * byte gives how many descriptors came with it (0 to 3), the rest is the
 * record.  Besides the sanitizers' checks it asserts what serve.c relies
 * on: a taken record is P with two descriptors or C with none, its three
 * fields lie inside it, end at NULs and fill it exactly, the user is a
 * login name, the password 1 to PASSWORD_MAX bytes, the address of the
 * allowed bytes.  Built and run by tests/fuzz.sh. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "postern-auth/auth.h"
#include "loginname.h"
#include "pop3limits.h"
#include "remoteip.h"

static int inside(const char *p, size_t len, const char *rec, size_t n)
{
	return p >= rec && p + len < rec + n && p[len] == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct request req;
	const char *rec = (const char *)data + 1;
	size_t n, nfds, at;

	if (size < 1)
		return 0;
	n = size - 1;
	nfds = data[0] & 3;
	if (request_parse(rec, n, nfds, &req) != 0)
		return 0;
	if (!((req.type == 'P' && nfds == 2) || (req.type == 'C' && nfds == 0)) || rec[0] != req.type)
		abort();
	if (!inside(req.user, req.userlen, rec, n) || !inside(req.password, req.passwordlen, rec, n) ||
	    !inside(req.ip, req.iplen, rec, n))
		abort();
	if (req.user != rec + 1 || req.password != req.user + req.userlen + 1 || req.ip != req.password + req.passwordlen + 1 ||
	    req.ip + req.iplen + 1 != rec + n)
		abort();
	if (!login_name(req.user, req.userlen, &at) || req.passwordlen < 1 || req.passwordlen > PASSWORD_MAX ||
	    !remote_ip_ok(req.ip, req.iplen) || n > RECORD_MAX)
		abort();
	return 0;
}
