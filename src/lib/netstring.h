/* Netstrings (`<len>:<bytes>,`) frame every message on postern's internal
 * pipes, so a reader knows a record's length before it reads it and a field
 * can never run into the next record.  See doc/pipes.md. */
#ifndef POSTERN_NETSTRING_H
#define POSTERN_NETSTRING_H
#include <stddef.h>
#include "io.h"
#include "str.h"

int ns_cat(struct str *out, const char *b, size_t n); /* 1 ok, 0 no memory */
/* Reads one netstring of at most max payload bytes into out (replacing it).
 * Returns 1: a record; 0: clean EOF before a record; -1: read error, a
 * malformed record or one over max (errno EPROTO), or EOF inside a record. */
int ns_read(struct io *, struct str *out, size_t max);
/* Splits a payload of NUL-terminated fields.  Exactly n fields, each ending in
 * NUL, or it returns 0.  field[i] points into payload (NUL-terminated). */
int ns_fields(const struct str *payload, const char **field, size_t *flen, size_t n);
/* The same for a payload of any number of fields up to max: returns how
 * many, or -1 if there are more than max or the payload does not end in a
 * NUL. */
long ns_split(const struct str *payload, const char **field, size_t *flen, size_t max);
#endif
