/* UTF-8 as RFC 3629 has it: no overlong form, no surrogate, nothing past
 * U+10FFFF.  One decoder for every program that checks or reads it
 * (postern-smtpd's addresses, postern-qstat's display, IDNA). */
#ifndef POSTERN_UTF8_H
#define POSTERN_UTF8_H
#include <stddef.h>
#include <stdint.h>

/* The length (1 to 4) of the well-formed sequence that starts s (n >= 1
 * bytes), its code point in *cp; 0 when there is none there (a stray or
 * invalid byte, a sequence cut short, overlong, a surrogate, too large). */
size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);
/* 1 if all n bytes of s are well-formed UTF-8 (ASCII, NUL included, is). */
int utf8_valid(const char *s, size_t n);
/* 1 if a byte of s is over 0x7f: 8-bit text, UTF-8 when valid. */
int utf8_has_high(const char *s, size_t n);
#endif
