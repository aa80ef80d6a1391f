/* Authentication-Results fields (RFC 8601) that claim to be this host's.
 * A reader trusts such a field by its authserv-id, so a receiver must
 * not let one through that it did not write (RFC 8601 5).
 * postern-dkimverify takes them out after it has checked the signatures
 * (a signature may cover them); postern-smtpd takes them out as the
 * message streams through when postern-dkimverify does not run (doc/dkim.md,
 * "Forged Authentication-Results").  Pure, for the unit test and the fuzz
 * target. */
#ifndef POSTERN_AUTHRES_H
#define POSTERN_AUTHRES_H
#include <stddef.h>
#include "str.h"

/* 1 when field, n bytes from its name to the end of its last line
 * (continuations included, without the last line end), is an
 * Authentication-Results field whose authserv-id (its first token after
 * any CFWS; RFC 8601 2.2) is id, ASCII case-insensitively, with or
 * without the root's dot.  Every reading that could make it ours does:
 * a quoted id is compared unquoted, an unclosed quoted string too, a
 * token ends at the first byte outside a token.  0 for an empty id. */
int authres_is_ours(const char *field, size_t n, const char *id);

/* A byte of an RFC 2045 token (RFC 8601's values): ASCII but controls,
 * space and tspecials.  8-bit bytes count, so that a longer name is not
 * read as ours. */
int authres_tokenc(char c);

/* The longest Authentication-Results field held to be judged whole; a
 * longer one is taken out whoever it names (it cannot be judged without
 * holding all of it, and honest ones are a few hundred bytes). */
#define AUTHRES_HOLD_MAX 16384

/* A message's header as it streams, LF line ends: the fields pass on to
 * put as they come, but an Authentication-Results field, held until its
 * end (the next line that is no continuation) and dropped when it is
 * ours.  Everything after the header's blank line passes untouched.  The
 * stream begins inside a field (postern-smtpd's Received, above the
 * message), so that a leading continuation line passes with it. */
struct authres_strip {
	const char *id;
	int state;
	int bol;               /* the next byte begins a line */
	size_t matched;        /* bytes of the name read so far */
	struct str held;
	unsigned long removed; /* fields taken out */
	void (*put)(const char *, size_t);
};
void authres_strip_init(struct authres_strip *, const char *id, void (*put)(const char *, size_t));
/* 1, or 0 when memory ran out (nothing more can be told of the message). */
int authres_strip_feed(struct authres_strip *, const char *in, size_t n);
/* The header ended where the stream stands (the caller adds fields of
 * its own there, or the message ended): a held field is judged and
 * passed on or dropped.  The stream goes on at the start of a line. */
void authres_strip_flush(struct authres_strip *);
void authres_strip_free(struct authres_strip *);
#endif
