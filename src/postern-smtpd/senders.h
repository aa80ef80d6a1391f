/* control/senderlogins: who may send as what beyond his own addresses
 * (senders.c; doc/smtp.md). */
#ifndef POSTERN_SMTPD_SENDERS_H
#define POSTERN_SMTPD_SENDERS_H
#include <stddef.h>
#include "str.h"

/* Reads the file (absent: no entries).  0, or -1 when it cannot be read:
 * an error, as for any control file.  A malformed line is logged once and
 * makes the entries unusable. */
int senders_load(void);
/* Whether login (lower case, n bytes) may send as addr (lower case, len
 * bytes, its @ at at) by an entry: 1 yes, 0 no, -1 the file is unusable. */
int senders_mapped(const char *login, size_t n, const char *addr, size_t len, size_t at);
/* Appends to out, NUL-terminated, each domain an entry naming login lets
 * it send from (none when the file is unusable), each once.  0 out of
 * memory. */
int senders_domains(const char *login, size_t n, struct str *out);
#endif
