#include "servername.h"

int server_name_ok(const char *s, size_t n)
{
	size_t i;
	if (n == 0 || n > SERVER_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
		      c == '-'))
			return 0;
	}
	return 1;
}
