/* The two files SRS is set with (doc/srs.md): the keys of
 * HOME/secret/srs/key, which postern-srs alone reads, and the domain of
 * control/srsdomain, which postern-send and postern-smtpd read.  Kept
 * apart from srs.c, which touches no file. */
#ifndef POSTERN_SRSFILES_H
#define POSTERN_SRSFILES_H
#include <stddef.h>
#include "srs.h"
#include "str.h"

/* Reads HOME/SRS_KEY_FILE into keys; path gets its name, for the log.
 * 1, or 0 with *why saying what is wrong (errno's text, a malformed
 * file, one too long): the admin's to mend; -1 out of memory.  The
 * file's text is wiped. */
int srs_keys_load(struct srs_keys *keys, struct str *path, const char **why);
/* 1 if control/srsdomain's value (n > 0 bytes) is a domain an SPF record
 * can be looked up for: a name, not an address literal. */
int srs_domain_usable(const char *d, size_t n);
#endif
