/* Envelope addresses.  postern keeps addresses as the bytes the client sent
 * (UTF-8 included, for SMTPUTF8) and only checks that they cannot hurt:
 * no control bytes, no NUL, bounded length, one '@' separating a non-empty
 * local part from a sane domain.  Relay policy is elsewhere. */
#ifndef POSTERN_ADDR_H
#define POSTERN_ADDR_H
#include <stddef.h>
#include "str.h"

#define ADDR_MAX 1000      /* longer: qmail-queue's exit 11, "address too long" */
#define ADDR_OK 0
#define ADDR_TOOLONG 1
#define ADDR_BAD 2

/* A recipient, or a non-empty sender: local@domain. */
int addr_check(const char *a, size_t n);
/* Position of the '@' that separates local part and domain (the last one), or n if none. */
size_t addr_at(const char *a, size_t n);
/* A domain: labels of [A-Za-z0-9-] or UTF-8 bytes, dots between, or an address literal [..]. */
int domain_check(const char *d, size_t n);
/* Lower-cases ASCII letters in place. */
void lowercase(char *s, size_t n);
/* 1 if domain (any case) is in list (NUL-separated, from control_lines): an
 * entry "example.org" matches itself, ".example.org" every subdomain. */
int domain_listed(const char *domain, size_t n, const struct str *list);
#endif
