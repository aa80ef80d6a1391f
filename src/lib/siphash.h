/* SipHash-2-4 (Aumasson and Bernstein, 2012): a keyed pseudorandom function
 * for short inputs, which a forger without the key cannot predict.  SRS
 * (src/lib/srs.c) signs addresses with it.  Written here rather than taken
 * from libsodium (which has it as crypto_shorthash) because postern-smtpd,
 * which checks those addresses, is built against musl and links neither
 * libsodium nor BearSSL. */
#ifndef POSTERN_SIPHASH_H
#define POSTERN_SIPHASH_H
#include <stddef.h>
#include <stdint.h>

#define SIPHASH_KEY_BYTES 16

/* The 64-bit SipHash-2-4 of the n bytes at m under the 16-byte key k (the
 * reference's output is this value's bytes, least significant first). */
uint64_t siphash24(const unsigned char k[SIPHASH_KEY_BYTES], const void *m, size_t n);
#endif
