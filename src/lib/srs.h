/* The Sender Rewriting Scheme (doc/srs.md): a forwarded copy leaves with an
 * envelope sender in one of this host's domains, so the next server's SPF
 * check asks this host's SPF record, not the original sender's; a bounce
 * of it comes back here, where the signed address is turned back into the
 * original sender's.  The form is libsrs2's (Shevek's SRS paper), signed
 * with SipHash-2-4 instead of HMAC-SHA1, and with a date in SRS1 too
 * (only this host reads its own addresses):
 *
 *   SRS0=HHHHHHHH=TT=original.domain=original-local@srs.domain
 *   SRS1=HHHHHHHH=TT=first.forwarder==GGGGGG=UU=domain=local@srs.domain
 *
 * HHHHHHHH: 40 bits of SipHash over the type digit and the rest,
 * lower-cased, in base32 (so a server that changes the case of a local
 * part does not break it, and an SRS0 cannot be passed off as an SRS1);
 * TT: the day it was made, modulo 1024, base32.  postern-send writes them,
 * postern-smtpd reads them back. */
#ifndef POSTERN_SRS_H
#define POSTERN_SRS_H
#include <stddef.h>
#include "siphash.h"
#include "str.h"

/* Paths under the install home.  The key file is one or more lines of 32
 * hex digits: the first key signs, every key verifies (so a new key can go
 * first while addresses signed with the old one still come back). */
#define SRS_KEY_FILE "secret/srs/key"
#define SRS_KEYS_MAX 8
/* How long an address stays good: a bounce may come back days after the
 * forward, and a server may keep it queued for days more. */
#define SRS_MAXAGE_DAYS 21
/* The longest SRS address made: RFC 5321's 256-byte path, '<' and '>'
 * aside, which postern-smtpd's RCPT takes back (a longer one could not
 * come back) */
#define SRS_ADDR_MAX 254

#define SRS_OK 0
#define SRS_NOT 1       /* srs_reverse: not an SRS address at all */
#define SRS_SKIP 2      /* srs_forward: the sender is left as it is */
#define SRS_MALFORMED 3 /* starts like one, but is not one of ours */
#define SRS_BADHASH 4   /* signed with no key we hold: forged or mangled */
#define SRS_EXPIRED 5   /* older than SRS_MAXAGE_DAYS */
#define SRS_NOMEM 6
#define SRS_UNAVAILABLE 7 /* srsask.h: postern-srs has no usable key, or could not be asked */

struct srs_keys {
	size_t n;
	unsigned char k[SRS_KEYS_MAX][SIPHASH_KEY_BYTES];
};

/* Reads a key file's text: '#' lines and blank lines aside, each line 32
 * hex digits, at least one and at most SRS_KEYS_MAX.  1, or 0 if malformed. */
int srs_keys_parse(struct srs_keys *keys, const char *text, size_t n);
/* The day number SRS addresses are dated with: seconds since the epoch
 * divided by 86400. */
unsigned long srs_day(long long now);
/* 1 if the local part starts as an SRS address does ("SRS0" or "SRS1", any
 * case, then '=', '+' or '-'): one that srs_reverse should judge. */
int srs_local_is(const char *local, size_t n);
/* out = the address to send sender (n bytes, as in an envelope) with, in
 * domain (dn bytes), signed with the first key and dated day.  SRS_SKIP for
 * the null sender, the double-bounce sender, and a sender that cannot be
 * written into a local part (quoted, two dots together, '%' or '!', an
 * address literal) or would make an address over SRS_ADDR_MAX. */
int srs_forward(struct str *out, const char *sender, size_t n, const char *domain, size_t dn,
                const struct srs_keys *keys, unsigned long day);
/* out = the address the SRS local part (n bytes, the part before '@') stands
 * for: SRS0's original sender, or for SRS1 the first forwarder's SRS0
 * address; each is good SRS_MAXAGE_DAYS.  SRS_NOT, SRS_MALFORMED,
 * SRS_BADHASH, SRS_EXPIRED as above. */
int srs_reverse(struct str *out, const char *local, size_t n, const struct srs_keys *keys, unsigned long day);
/* A line for a log or an SMTP reply saying what an srs_* result means. */
const char *srs_strerror(int code);
#endif
