/* control/senderlogins: who may send as what beyond his own addresses
 * (senders.c; doc/smtp.md). */
#ifndef POSTERN_SMTPD_SENDERS_H
#define POSTERN_SMTPD_SENDERS_H
#include <stddef.h>
#include "str.h"

/* Reads the file (absent: no entries); the two below do it at their
 * first call.  0, or -1 when it cannot be read (the entries are then
 * unusable).  A malformed line is logged and makes them unusable. */
int senders_load(void);
/* Whether login (as it logged in, n bytes) may send as addr (lower case,
 * len bytes, its @ at at) by an entry: 1 yes, 0 no, -1 the file is
 * unusable. */
int senders_mapped(const char *login, size_t n, const char *addr, size_t len, size_t at);
/* Appends to out, NUL-terminated, each domain an @domain entry naming
 * login gives it (postern-dkimsign -d), each once; none when the file is
 * unusable.  0 out of memory. */
int senders_domains(const char *login, size_t n, struct str *out);
/* The same for the single addresses entries give it (postern-dkimsign -f:
 * From exactly that address, not any at its domain). */
int senders_addresses(const char *login, size_t n, struct str *out);
#endif
