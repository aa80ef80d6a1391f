/* The header's rewriting: the Authentication-Results field on top, and
 * every Authentication-Results field that claims to be ours taken out
 * (RFC 8601 5: a receiver must not let through, as its own, a result
 * someone else wrote).  The lines are read here rather than by
 * dkim_fields, which refuses whole headers it would not sign (a NUL, a
 * bare CR, over 1,000 fields): a forgery must not pass because the
 * header around it is odd. */
#include <string.h>
#include "verify.h"
#include "ascii.h"
#include "authres.h"
#include "die.h"
#include "qqfilter.h"

/* The end of the line at pos: the offset after its LF, or len. */
static size_t line_end(const char *msg, size_t len, size_t pos)
{
	const char *nl = memchr(msg + pos, '\n', len - pos);
	return nl ? (size_t)(nl - msg) + 1 : len;
}

/* 1 when the line at pos, up to end, is empty (LF, or CR LF). */
static int empty_line(const char *msg, size_t pos, size_t end)
{
	return msg[pos] == '\n' || (end - pos == 2 && msg[pos] == '\r' && msg[pos + 1] == '\n');
}

void header_rewrite(const char *msg, size_t len, const char *id, const struct str *field, struct str *out,
                    size_t *replaced, size_t *removed)
{
	size_t pos = 0, kept_from = 0;

	out->len = 0;
	*replaced = 0;
	*removed = 0;
	if (!str_cat(out, field))
		die(QF_NOMEM, "fatal: out of memory");
	while (pos < len) {
		size_t end = line_end(msg, len, pos), start = pos, n;

		if (empty_line(msg, pos, end))
			break;
		/* a field: its first line and every continuation */
		while (end < len && ascii_wsp(msg[end]))
			end = line_end(msg, len, end);
		pos = end;
		if (ascii_wsp(msg[start]))
			continue; /* a continuation with no field above it */
		n = end - start;
		if (n && msg[end - 1] == '\n')
			n--;
		if (n && msg[start + n - 1] == '\r')
			n--;
		if (!authres_is_ours(msg + start, n, id))
			continue;
		/* what came since the last one removed stays, this one goes */
		if (!str_catb(out, msg + kept_from, start - kept_from))
			die(QF_NOMEM, "fatal: out of memory");
		kept_from = end;
		*replaced = end;
		(*removed)++;
	}
}
