/* The client's address as the POP3 programs pass it on (doc/pop3.md):
 * REMOTEIP, for the logs and postern-pop3d's TCPREMOTEIP only, so it is
 * held to the bytes an address is written with and nothing is parsed;
 * and whether a client's address is on loopback. */
#ifndef POSTERN_REMOTEIP_H
#define POSTERN_REMOTEIP_H
#include <stddef.h>

#define REMOTEIP_MAX 45 /* an IPv6 address with an IPv4 tail */

/* 1 when s (n bytes) is 0 to REMOTEIP_MAX bytes of 0-9 a-f A-F . : */
int remote_ip_ok(const char *s, size_t n);
/* 1 when the client's address, as inet_pton wrote it (4 bytes, or 16
 * when v6), is on loopback: 127.0.0.0/8, ::1 or ::ffff:127.0.0.0/104.
 * A password may cross loopback in clear (postern-popup, postern-smtpd -a). */
int remote_ip_loopback(const unsigned char *bin, int v6);
#endif
