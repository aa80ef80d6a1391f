/* Which bytes may name a Unix user here.  postern-send looks names up and
 * postern-lspawn re-checks what send asks for: both use this one rule, so
 * the two can never disagree, and no arbitrary byte from an envelope ever
 * reaches NSS. */
#ifndef POSTERN_USERNAME_H
#define POSTERN_USERNAME_H
#include <stddef.h>
#define USERNAME_MAX 32
/* 1 if s (n bytes) is 1..USERNAME_MAX of [a-z0-9_.-], not starting with '-'. */
int username_ok(const char *s, size_t n);
#endif
