/* Which bytes may name the server of an outbound TLS connection (doc/tls.md,
 * the C request).  postern-tlsd checks the request with it and postern-tlsio
 * its argument, so the two never disagree; the name becomes an argument of
 * a program and goes out as SNI, so no byte of it may be anything else. */
#ifndef POSTERN_SERVERNAME_H
#define POSTERN_SERVERNAME_H
#include <stddef.h>
#define SERVER_NAME_MAX 253 /* the longest DNS name */
/* 1 if s (n bytes) is 1..SERVER_NAME_MAX of [A-Za-z0-9.-]. */
int server_name_ok(const char *s, size_t n);
#endif
