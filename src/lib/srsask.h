/* Asking postern-srs, the SRS key holder (doc/srs.md, "Who holds the
 * key"): one request on HOME/run/srs/socket, one answer, each one
 * SOCK_SEQPACKET record.
 *
 *   F SENDER NUL DOMAIN   sign: SENDER, for a forwarded copy, into DOMAIN
 *                         (postern-send's uid alone)
 *   R LOCAL               reverse: the local part of an address in
 *                         control/srsdomain (every uid)
 *
 * answered by one of
 *
 *   K ADDRESS   F: the SRS address; R: the address it stands for
 *   S           F: the sender is left as it is (srs_forward's SRS_SKIP)
 *   N M B E     R: not an SRS address, malformed, a signature none of
 *               the keys made, expired
 *   Z WHY       no usable key: try again later
 *
 * A request that is not exactly one of these is closed unanswered. */
#ifndef POSTERN_SRSASK_H
#define POSTERN_SRSASK_H
#include <stddef.h>
#include "srs.h"
#include "str.h"

#define SRS_SOCKET "run/srs/socket"
/* F with the longest sender and domain worth asking for; an R is shorter */
#define SRS_REQUEST_MAX (1 + SRS_ADDR_MAX + 1 + 253)
/* K and the longest address either way (an SRS address is at most
 * SRS_ADDR_MAX; what an R gives back is shorter than what it was given),
 * or Z and a line of text */
#define SRS_ANSWER_MAX (1 + 512)

/* out = sender (n bytes) signed into domain (dn bytes): SRS_OK, SRS_SKIP,
 * SRS_UNAVAILABLE (why says what: no usable key, postern-srs not
 * running or not answering), SRS_NOMEM.  A sender longer than
 * SRS_ADDR_MAX is SRS_SKIP without asking: no address made from it
 * would fit. */
int srs_ask_forward(const char *sender, size_t n, const char *domain, size_t dn, struct str *out, struct str *why);
/* out = what the SRS local part (n bytes) stands for: SRS_OK, SRS_NOT,
 * SRS_MALFORMED, SRS_BADHASH, SRS_EXPIRED, SRS_UNAVAILABLE (why),
 * SRS_NOMEM.  One longer than SRS_ADDR_MAX is SRS_MALFORMED without
 * asking. */
int srs_ask_reverse(const char *local, size_t n, struct str *out, struct str *why);
#endif
