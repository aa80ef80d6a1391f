/* Connections at once per client: the listener's count of its children by
 * client address, so that one address cannot hold every slot.  An IPv6
 * client counts by its /64 (src/lib/ipkey.h, the key postern-auth's
 * throttle counts by too).  tests/unit/listen_perip.c. */
#ifndef POSTERN_LISTEN_PERIP_H
#define POSTERN_LISTEN_PERIP_H
#include <stddef.h>
#include "ipkey.h"

struct perip_key {
	unsigned char b[IPKEY_LEN];
};

/* The key of an address (family AF_INET: 4 bytes, AF_INET6: 16). */
void perip_key(struct perip_key *k, int family, const unsigned char *addr);
/* Room for max keys at once; 0 when memory runs out. */
int perip_init(size_t max);
size_t perip_count(const struct perip_key *k);
/* One more connection of k's: never fails once perip_init gave room for
 * every child.  perip_del takes one away. */
void perip_add(const struct perip_key *k);
void perip_del(const struct perip_key *k);
#endif
