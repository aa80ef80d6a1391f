/* RFC 5322 dates ("Sat, 29 Nov 2025 13:28:00 +0000") for Date and Received
 * headers, always in UTC: a setuid program must not read the caller's TZ,
 * and UTC needs no time zone files. */
#ifndef POSTERN_DATE822_H
#define POSTERN_DATE822_H
#include <time.h>
#include "str.h"

/* Appends the date of t to out.  1 ok, 0 out of memory or t out of range. */
int date822_cat(struct str *out, time_t t);
#endif
