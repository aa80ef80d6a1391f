#include <string.h>
#include <sys/socket.h>
#include "ipkey.h"

void ip_key(unsigned char key[IPKEY_LEN], int family, const unsigned char *addr)
{
	memset(key, 0, IPKEY_LEN);
	key[0] = family == AF_INET6 ? 6 : 4;
	memcpy(key + 1, addr, family == AF_INET6 ? 8 : 4);
}
