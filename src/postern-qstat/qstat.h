#ifndef POSTERN_QSTAT_QSTAT_H
#define POSTERN_QSTAT_QSTAT_H
#include <stddef.h>
#include "str.h"

/* Appends b for a terminal: printable ASCII and printable UTF-8 as they are,
 * every other byte (escape sequences included) as \xNN. */
int cat_safe(struct str *out, const char *b, size_t n);

#endif
