/* The key by which postern counts a client address: postern-listen's
 * connections per address (control/maxperip) and postern-auth's wrong
 * passwords per address (control/authfailures) count alike.  An IPv6
 * client counts by its /64, the block one site or customer is given:
 * with 2^64 addresses to pick from, counting single ones would limit
 * nothing.  An IPv4-mapped IPv6 address is an IPv6 one here (a listener
 * with IPV6_V6ONLY never sees one); postern-auth, which reads addresses
 * as text, folds it into the IPv4 one first. */
#ifndef POSTERN_IPKEY_H
#define POSTERN_IPKEY_H

#define IPKEY_LEN 9 /* family (4 or 6), then the IPv4 address or the /64 */

/* family AF_INET: addr is 4 bytes; AF_INET6: 16. */
void ip_key(unsigned char key[IPKEY_LEN], int family, const unsigned char *addr);
#endif
