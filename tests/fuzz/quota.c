/* libFuzzer target for Maildir++ quota text (src/lib/quota.c): the
 * definitions of control/quota and the maildirsize files postern-local
 * and postern-pop3d read (the mailbox owner's, or Courier's and
 * Dovecot's).  Checked: a definition that parses comes back the same
 * from its Maildir++ form; a file that reads gives the same definition
 * and sums when read again after its definition line is rewritten in
 * that form, and one more line "B C" adds B and C; quota_over never
 * calls a quota of no limits over.  Built and run by tests/fuzz.sh. */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "quota.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *t = (const char *)data;
	struct quota q, q2, none = { 0, 0 };
	struct quota_usage u, u2;
	struct str s = STR_INIT;

	if (quota_parse(t, size, &q)) {
		if (!quota_format(&s, &q) || !quota_parse(s.s, s.len, &q2) || !quota_same(&q, &q2))
			abort();
	}
	if (quota_read(t, size, &q, &u)) {
		const char *nl = memchr(t, '\n', size);
		s.len = 0;
		if (!nl || !quota_format(&s, &q) || !str_catb(&s, nl, size - (size_t)(nl - t)) ||
		    !str_cats(&s, "-5 7\n"))
			abort();
		if (!quota_read(s.s, s.len, &q2, &u2)) {
			/* only the sums may have overflowed */
			if (u.bytes >= LLONG_MIN + 5 && u.count <= LLONG_MAX - 7)
				abort();
		} else if (!quota_same(&q, &q2) || u2.bytes != u.bytes - 5 || u2.count != u.count + 7 ||
		           u2.lines != u.lines + 1) {
			abort();
		}
		if (quota_over(&none, &u, ~0ULL))
			abort();
	}
	str_free(&s);
	return 0;
}
