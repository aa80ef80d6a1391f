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
