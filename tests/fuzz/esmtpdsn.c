/* libFuzzer target for the DSN parameters (src/lib/esmtpdsn.c): what a
 * client writes after MAIL and RCPT, and what postern-rspawn and
 * postern-remote take from their callers.  Checked:
 * - whatever dsn_params_ok takes is at most DSN_PARAMS_MAX bytes of
 *   printable ASCII with single spaces between words: nothing in it can
 *   end an SMTP command or add a parameter of another name;
 * - xtext that xtext_ok takes decodes to bytes that encode to xtext
 *   of the same meaning (not the same text: "+22" may stand for '"'),
 *   and any bytes encode to xtext that xtext_ok takes and that decodes
 *   back to them;
 * - a NOTIFY value that parses comes back, in its canonical form, to the
 *   same bits, and dsn_notify_canonical takes only that form;
 * - parameters built from values the checks took pass dsn_params_ok.
 * The input's first byte picks MAIL or RCPT.  Built and run by
 * tests/fuzz.sh. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "esmtpdsn.h"

static void printable_words(const char *s, size_t n)
{
	size_t i;

	if (n > DSN_PARAMS_MAX || (n && (s[0] == ' ' || s[n - 1] == ' ')))
		abort();
	for (i = 0; i < n; i++)
		if (!(s[i] > 0x20 && s[i] < 0x7f) && !(s[i] == ' ' && s[i + 1] != ' '))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *t = (const char *)data + 1;
	struct str a = STR_INIT, b = STR_INIT;
	size_t n;
	unsigned bits;
	int rcpt;

	if (size < 1)
		return 0;
	rcpt = data[0] & 1;
	n = size - 1;
	if (dsn_params_ok(t, n, rcpt))
		printable_words(t, n);
	if (xtext_ok(t, n)) {
		struct str c = STR_INIT;
		if (!xtext_decode(&a, t, n) || !xtext_encode(&b, a.s ? a.s : "", a.len) || b.len > n ||
		    !xtext_ok(b.s, b.len) || !xtext_decode(&c, b.s, b.len) || c.len != a.len ||
		    memcmp(c.s, a.s, a.len) != 0)
			abort();
		str_free(&c);
	}
	a.len = b.len = 0;
	if (!xtext_encode(&a, t, n) || (n && !xtext_ok(a.s, a.len)) || !xtext_decode(&b, a.s ? a.s : "", a.len) ||
	    b.len != n || (n && memcmp(b.s, t, n) != 0))
		abort();
	if ((bits = dsn_notify_parse(t, n)) != 0) {
		a.len = 0;
		if (!dsn_notify_cat(&a, bits) || dsn_notify_canonical(a.s, a.len) != bits)
			abort();
		if (dsn_notify_canonical(t, n) && (a.len != n || memcmp(a.s, t, n) != 0))
			abort();
	}
	a.len = 0;
	if (rcpt && dsn_orcpt_ok(t, n) && (!dsn_rcpt_params(&a, bits, t, n) || !dsn_params_ok(a.s, a.len, 1)))
		abort();
	if (!rcpt && dsn_envid_ok(t, n) && (!dsn_mail_params(&a, DSN_RET_HDRS, t, n) || !dsn_params_ok(a.s, a.len, 0)))
		abort();
	str_free(&a);
	str_free(&b);
	return 0;
}
