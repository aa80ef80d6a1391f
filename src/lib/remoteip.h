/* The client's address as the POP3 programs pass it on (doc/pop3.md):
 * REMOTEIP, for the logs and postern-pop3d's TCPREMOTEIP only, so it is
 * held to the bytes an address is written with and nothing is parsed. */
#ifndef POSTERN_REMOTEIP_H
#define POSTERN_REMOTEIP_H
#include <stddef.h>

#define REMOTEIP_MAX 45 /* an IPv6 address with an IPv4 tail */

/* 1 when s (n bytes) is 0 to REMOTEIP_MAX bytes of 0-9 a-f A-F . : */
int remote_ip_ok(const char *s, size_t n);
#endif
