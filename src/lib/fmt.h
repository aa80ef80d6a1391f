/* Number formatting and scanning without stdio.  scan_* refuse overflow. */
#ifndef POSTERN_FMT_H
#define POSTERN_FMT_H
#include <stddef.h>
#define FMT_ULONG 24 /* enough for 2^64 in decimal, with room to spare */

size_t fmt_ulong(char *buf, unsigned long long u);
size_t fmt_xlong(char *buf, unsigned long long u);
/* The lower-case hex digit of n's low four bits: the one table of them, so
 * that every hex postern writes is the lower-case scan_hexdigit reads. */
char fmt_hexdigit(unsigned n);
/* b as two lower-case hex digits at out, not NUL-terminated: returns 2. */
size_t fmt_hexbyte(char *out, unsigned char b);
/* u as sixteen lower-case hex digits, leading zeros kept, not
 * NUL-terminated: returns 16. */
size_t fmt_hex64(char *out, unsigned long long u);
/* Returns the number of digits used, 0 if none or if the value overflows. */
size_t scan_ulong(const char *s, size_t len, unsigned long long *u);
/* The whole of s (len bytes) must be the number. */
int scan_ulong_all(const char *s, size_t len, unsigned long long *u);
/* A lower-case hex digit's value, or -1 (postern writes hex lower-case). */
int scan_hexdigit(char c);
/* The n lower-case hex digits at s into out (n / 2 bytes): 1, or 0 when n
 * is odd or one is not a hex digit (out then partly written). */
int scan_hex(const char *s, size_t n, unsigned char *out);
#endif
