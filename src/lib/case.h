/* ASCII case-insensitive comparison, for domains, header names and SMTP
 * keywords: the C library's strncasecmp depends on the locale and stops at
 * NUL, neither of which is wanted for bytes from the network. */
#ifndef POSTERN_CASE_H
#define POSTERN_CASE_H
#include <stddef.h>
/* 1 if the n bytes at a and b are equal apart from ASCII case. */
int case_eqn(const char *a, const char *b, size_t n);
/* 1 if a (an bytes) and b (bn bytes) are equal apart from ASCII case. */
int case_eqb(const char *a, size_t an, const char *b, size_t bn);
#endif
