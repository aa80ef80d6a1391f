/* The one thing postern-keys does for a peer: sign a hash (doc/tls.md,
 * "The key holder", steps 2 and 3). */
#ifndef POSTERN_KEYS_SIGN_H
#define POSTERN_KEYS_SIGN_H
#include <stddef.h>
#include "key.h"

/* The longest S record: 'S', the hash id, a SHA-512 value. */
#define SIGN_RECORD_MAX (2 + 64)
/* The longest answer: 'G' and an RSA-4096 signature (an E's text is
 * shorter, and an ECDSA P-521 one is 139 bytes at most). */
#define SIGN_ANSWER_MAX (1 + 512)

/* Answers the S record rec (n bytes) in out: 'G' and the signature, or 'E'
 * and a line of text (no newline; the record's end ends it).  Returns the
 * answer's length; *hash is the hash's name ("sha256"), or 0 after an E. */
size_t sign_answer(const struct key *, const unsigned char *rec, size_t n,
                   unsigned char out[SIGN_ANSWER_MAX], const char **hash);
/* An E answer with why (shorter than SIGN_ANSWER_MAX), for the shapes the
 * socket shows and the record itself cannot: one too long, or not alone. */
size_t sign_refuse(unsigned char out[SIGN_ANSWER_MAX], const char *why);
#endif
