/* libFuzzer target for TLS reporting (src/lib/tlsrpt_*.c): a record line
 * comes from postern-remote, which talks to hostile servers, and a TXT
 * record and its mailto: URIs from a stranger's DNS.  The first byte
 * chooses what the rest is read as:
 *  0: a record line: one taken has fields in range (a type, a hash of 16
 *     lower-case hex digits but for no-policy-found, addresses inet_pton
 *     takes, an MX host tlsrpt_host_ok takes, a reason of at most 200
 *     bytes with no NUL and none for a success), and its reason as a
 *     JSON string holds only printable ASCII;
 *  1: a TXT record: one taken begins with v=TLSRPTv1, has 1 to 4 URIs
 *     inside the input, each with a scheme and no ',', ';' or blank; each
 *     URI's mailto: address, when there is one, passes tlsrpt_addr_ok and
 *     holds no byte outside printable ASCII;
 *  2: control/tlsrpt (lines split at LF): one on has an organization of
 *     1 to 100 printable bytes and a from tlsrpt_addr_ok takes.
 * Built and run by tests/fuzz.sh. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "tlsrpt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data + 1;
	size_t n = size ? size - 1 : 0, i;

	if (!size)
		return 0;
	if (data[0] % 3 == 0) {
		struct tlsrpt_rec r;
		const char *why = 0;
		struct str j = STR_INIT;
		unsigned char bin[16];
		if (tlsrpt_rec_parse(s, n, &r, &why) == -1) {
			if (!why || !why[0])
				abort();
			return 0;
		}
		if (r.result >= TLSRPT_RESULTS || (r.type != TLSRPT_NOPOLICY && strlen(r.hash) != 16) ||
		    (r.type == TLSRPT_NOPOLICY && (r.hash[0] || r.result == 0)) || r.reason_len > TLSRPT_REASON_MAX ||
		    memchr(r.reason, 0, r.reason_len) || (r.result == 0 && r.reason_len) ||
		    (r.mx_host[0] && !tlsrpt_host_ok(r.mx_host, strlen(r.mx_host), 1)))
			abort();
		for (i = 0; i < 16 && r.hash[i]; i++)
			if (!((r.hash[i] >= '0' && r.hash[i] <= '9') || (r.hash[i] >= 'a' && r.hash[i] <= 'f')))
				abort();
		if ((r.sending_ip[0] && inet_pton(strchr(r.sending_ip, ':') ? AF_INET6 : AF_INET, r.sending_ip, bin) != 1) ||
		    (r.mx_ip[0] && inet_pton(strchr(r.mx_ip, ':') ? AF_INET6 : AF_INET, r.mx_ip, bin) != 1))
			abort();
		if (!json_cat_string(&j, r.reason, r.reason_len))
			abort();
		for (i = 0; i < j.len; i++)
			if ((unsigned char)j.s[i] < 0x20 || (unsigned char)j.s[i] > 0x7e)
				abort();
		str_free(&j);
	} else if (data[0] % 3 == 1) {
		const char *uri[TLSRPT_RUA_MAX], *why = 0;
		size_t ul[TLSRPT_RUA_MAX], nu, more, k;
		struct str a = STR_INIT;
		int r = tlsrpt_txt(s, n, uri, ul, &nu, &more, &why), https;
		if (r == -1 && (!why || !why[0]))
			abort();
		if (r != 1)
			return 0;
		if (n < 10 || memcmp(s, "v=TLSRPTv1", 10) || nu < 1 || nu > TLSRPT_RUA_MAX)
			abort();
		for (i = 0; i < nu; i++) {
			if (uri[i] < s || uri[i] + ul[i] > s + n || !memchr(uri[i], ':', ul[i]))
				abort();
			for (k = 0; k < ul[i]; k++)
				if (uri[i][k] == ',' || uri[i][k] == ';' || uri[i][k] <= ' ' || (unsigned char)uri[i][k] > 0x7e)
					abort();
			if (tlsrpt_mailto(uri[i], ul[i], &a, &https) == 1) {
				if (!tlsrpt_addr_ok(a.s, a.len))
					abort();
				for (k = 0; k < a.len; k++)
					if (a.s[k] <= ' ' || (unsigned char)a.s[k] > 0x7e)
						abort();
			}
		}
		str_free(&a);
	} else {
		struct str lines = STR_INIT;
		struct tlsrpt_conf c = { STR_INIT, STR_INIT, STR_INIT, 0, "" };
		for (i = 0; i < n; i++)
			if (!str_catc(&lines, s[i] == '\n' ? 0 : s[i]))
				abort();
		if (n && s[n - 1] != '\n' && !str_catz(&lines))
			abort();
		if (tlsrpt_conf(&lines, "mx.example", &c) == 1) {
			if (!c.org.len || c.org.len > TLSRPT_ORG_MAX || !tlsrpt_addr_ok(c.from.s, c.from.len))
				abort();
			for (i = 0; i < c.org.len; i++)
				if (c.org.s[i] < 0x20 || c.org.s[i] > 0x7e)
					abort();
		}
		str_free(&lines);
		str_free(&c.org);
		str_free(&c.contact);
		str_free(&c.from);
	}
	return 0;
}
