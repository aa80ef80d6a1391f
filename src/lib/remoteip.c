#include <string.h>
#include "remoteip.h"

int remote_ip_ok(const char *s, size_t n)
{
	size_t i;

	if (n > REMOTEIP_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == '.' ||
		      c == ':'))
			return 0;
	}
	return 1;
}

int remote_ip_loopback(const unsigned char *bin, int v6)
{
	static const unsigned char one[16] = { [15] = 1 };
	static const unsigned char mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (!v6)
		return bin[0] == 127;
	return !memcmp(bin, one, 16) || (!memcmp(bin, mapped, 12) && bin[12] == 127);
}
