/* Internationalized domain names for DNS: a domain in UTF-8, as SMTPUTF8
 * lets a client write it, becomes the ASCII name DNS knows (RFC 5890's
 * A-labels: "xn--" and the label's code points in Punycode, RFC 3492).
 *
 * What this is not: UTS 46 mapping or IDNA2008's table of permitted code
 * points, which need the Unicode tables.  A label is encoded as it was
 * written (ASCII letters lowered, as DNS ignores their case anyway), so a
 * name in its canonical form (lowercase, NFC: what people and mail clients
 * write) finds its records, and any other form is looked up as written and
 * fails as a name that does not exist, never as another domain. */
#ifndef POSTERN_IDNA_H
#define POSTERN_IDNA_H
#include <stddef.h>
#include "str.h"

#define IDNA_OK 1
#define IDNA_BAD 0      /* not UTF-8, an empty label, a label or name too long, hyphens where RFC 5891 forbids
                         * them, ASCII other than letters, digits and '-' in a label that needs encoding */
#define IDNA_NOMEM (-1)

/* out = name (n bytes, no trailing dot) with each label that holds a byte
 * over 0x7f (utf8_has_high: what makes a name need this) as its A-label; an ASCII label is copied as it is.  On
 * IDNA_BAD out's contents are unspecified. */
int idna_to_ascii(const char *name, size_t n, struct str *out);
#endif
