/* Random bytes from the kernel's CSPRNG (getrandom(2)), for unique names and
 * for spreading load.  Not libsodium's randombytes: on Linux that is the same
 * system call behind sodium_init()'s CPU probing, and Debian's libsodium.a
 * cannot be linked into the musl-built per-message programs
 * (doc/performance.md, "Randomness without libsodium"). */
#ifndef POSTERN_RAND_H
#define POSTERN_RAND_H
#include <stddef.h>
#include <stdint.h>

/* Fills buf with len random bytes: 1, or 0 with errno set if the kernel
 * would not give them (a kernel without getrandom, a seccomp filter). */
int rand_bytes(void *buf, size_t len);
/* A uniform number in [0, upper), without modulo bias; 0 if upper < 2 or
 * no randomness could be had (callers use it to spread load, where a
 * fixed choice is slower but not wrong). */
uint32_t rand_uniform(uint32_t upper);
#endif
