/* DKIM (RFC 6376) without the cryptography: the parts of a signature that
 * are text.  postern-dkimsign hashes what these produce and has the hash
 * signed by postern-dkim (doc/dkim.md).  Messages are as the queue holds
 * them, LF line ends; every canonical form here has CRLF, as the verifier
 * sees the message on the wire (postern-remote sends CRLF).  Only the
 * relaxed/relaxed canonicalization is made: it survives the re-folding
 * and trailing-space trimming of relays that simple does not. */
#ifndef POSTERN_DKIM_H
#define POSTERN_DKIM_H
#include <stddef.h>
#include <time.h>
#include "str.h"

/* One header field as it stands in the message: name without the colon
 * (and without the blanks the obsolete syntax allows before it), raw the
 * whole field from its name to the end of its last continuation line,
 * without that line's LF (continuation LFs inside). */
struct dkim_field {
	const char *name;
	size_t namelen;
	const char *raw;
	size_t rawlen;
};

#define DKIM_FIELDS_MAX 1000     /* fields in a header section we sign */
#define DKIM_HEADER_MAX 1048576  /* bytes of header section we sign */

/* Splits msg's header section (up to the first empty line, or the end)
 * into fields, at most max: 0 with *n and *body (the offset of the first
 * byte of the body, after the empty line; len when there is none) set;
 * -1 when it is not one a signature should be made over: a line that is
 * neither a field nor a continuation (starting with space or tab), a
 * continuation first, a NUL or a bare CR in it, over max fields or
 * DKIM_HEADER_MAX bytes.  A field's line is a name of printable ASCII
 * but ':' (ftext, RFC 5322 3.6.8), ending at the first space, tab or
 * ':', then any spaces and tabs, then ':'.  The blanks before the colon
 * are RFC 5322's obsolete syntax (obs-optional, 4.5.3), which a reader
 * must still take and relaxed canonicalization deletes (RFC 6376 3.4.2);
 * refused, such a message would go out unsigned. */
int dkim_fields(const char *msg, size_t len, struct dkim_field *f, size_t max, size_t *n, size_t *body);

/* The domain of the one address in the one From field, lower case,
 * without a trailing dot: 0 with it in dom; -1 when there is no From,
 * more than one, more or fewer than one address in it (a group, a list),
 * or the domain is not a host name (letters, digits, '-', '.'; no empty
 * label, none over 63 bytes; at most 253 bytes) or an address literal.
 * A domain in UTF-8 is given as its A-labels (src/lib/idna.h), which is
 * how DNS and d= name it; one that has none is -1.
 * Comments, quoted strings (an '@' in a quoted local part) and a display
 * name are understood. */
int dkim_from_domain(const struct dkim_field *f, size_t n, struct str *dom);
/* The same, and the address in addr: the local part as written (quotes
 * kept, comments and folding between its words left out) and ASCII
 * lower-cased, '@', the domain as in dom; NUL-terminated. */
int dkim_from_address(const struct dkim_field *f, size_t n, struct str *dom, struct str *addr);

/* Appends f in relaxed canonical form (RFC 6376 3.4.2): the name in
 * lower case, ':', the value unfolded, runs of space and tab one space,
 * none at either end, then CRLF.  0, or -1 out of memory. */
int dkim_canon_field(const struct dkim_field *f, struct str *out);

/* The relaxed body canonicalization (RFC 6376 3.4.4), fed in pieces of
 * any size: each LF ends a line (becoming CRLF; a CR just before it, or
 * at the very end, belongs to that line end, as postern-remote sends it;
 * any other CR is text), trailing space and tab are dropped from each
 * line, runs of them inside a line become one space, and empty lines at
 * the end are dropped (an empty body is empty,
 * not CRLF; a last line without LF gets its CRLF).  The canonical bytes
 * go to out as they become known; a run of empty lines is held back
 * until a line with text shows it was not at the end. */
struct dkim_body {
	void (*out)(void *ctx, const char *b, size_t n);
	void *ctx;
	unsigned long long pending_crlf; /* empty lines held back */
	size_t pending_wsp;              /* space, then a CR, not yet known inner */
	int line_has_text;
};
void dkim_body_init(struct dkim_body *, void (*out)(void *ctx, const char *b, size_t n), void *ctx);
void dkim_body_put(struct dkim_body *, const char *b, size_t n);
void dkim_body_end(struct dkim_body *);

/* Which fields to sign, as the h= tag: every field of a fixed list
 * (from, reply-to, subject, sender, date, to, cc, message-id,
 * in-reply-to, references, mime-version, content-type,
 * content-transfer-encoding, content-id, content-description,
 * resent-date, resent-from, resent-sender, resent-to, resent-cc,
 * resent-message-id, list-id, list-help, list-unsubscribe,
 * list-subscribe, list-post, list-owner, list-archive) present in f,
 * each name as often as it occurs, in that order.  Names RFC 5322 allows
 * only once are named once more than they occur ("over-signing", RFC
 * 6376 8.15), so that a field of that name added later breaks the
 * signature:
 *  - from, reply-to and subject always, even when the message has none
 *    (reply-to then once in h=): what the reader sees as the author,
 *    where replies go and what the message is about must not be added by
 *    someone replaying a signed message that lacked them;
 *  - sender, date, to, cc, message-id, in-reply-to, references,
 *    mime-version, content-type and content-transfer-encoding only when
 *    present: an MTA after us may add a missing Date or Message-ID (as
 *    RFC 6409 8.2 and 8.3 let a submission server) or To (sendmail's
 *    "undisclosed-recipients:;"), which must not break the signature.
 * Names in lower case, ':' between.  hashed gets the canonical form of
 * the fields h names, in h's order, each occurrence of a name taking the
 * last not yet taken instance (RFC 6376 5.4.2); an over-signed name, one
 * with no instance left, adds nothing, as it adds nothing for the
 * verifier.  0, or -1 out of memory. */
int dkim_signed_fields(const struct dkim_field *f, size_t n, struct str *h, struct str *hashed);

/* The DKIM-Signature field up to and including "b=", without the
 * signature: "DKIM-Signature: v=1; a=ALG; c=relaxed/relaxed; d=DOM;
 * s=SEL; t=TIME; h=H; bh=BH; b=" folded with LF TAB (at most 78
 * characters a line where tags allow; h is folded after a ':'), the tags
 * in that order, b= last.  alg is "rsa-sha256" or "ed25519-sha256", bh
 * the body hash in base64.  0, or -1 out of memory. */
int dkim_sig_head(struct str *out, const char *alg, const char *dom, const char *sel,
                  time_t t, const struct str *h, const char *bh);

/* Appends to hashed the canonical form of the field sig_head wrote,
 * without the CRLF at its end (RFC 6376 3.7: the signature field is hashed
 * last, with an empty b=, and unterminated).  0, or -1 out of memory. */
int dkim_sig_hashed(const struct str *sig_head, struct str *hashed);

/* Appends the base64 signature b64 to out (what dkim_sig_head wrote),
 * folded with LF TAB every 72 characters, and the field's closing LF.
 * 0, or -1 out of memory. */
int dkim_sig_finish(struct str *out, const char *b64);

/* 1 when s (n bytes) is a selector or domain DKIM can name: labels of
 * letters, digits, '-' and '_' (a selector), separated by single dots,
 * none empty or over 63 bytes, at most 253 bytes in all. */
int dkim_name_ok(const char *s, size_t n);

/* The a= name of an algorithm by the letter postern-dkim's records give
 * it (doc/dkim.md): 'r' rsa-sha256, 'e' ed25519-sha256. */
const char *dkim_alg_name(char alg);
#endif
