#include "username.h"

int username_ok(const char *s, size_t n)
{
	size_t i;
	if (n == 0 || n > USERNAME_MAX || s[0] == '-')
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.'))
			return 0;
	}
	return 1;
}
