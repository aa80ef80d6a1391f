#include <stdlib.h>
#include <string.h>
#include "argblank.h"

char **args_blank(char **arg, size_t n)
{
	size_t k, bytes = 0;
	char **copy, *p;

	for (k = 0; k < n; k++)
		bytes += strlen(arg[k]) + 1;
	if (n >= ((size_t)-1 - bytes) / sizeof *copy - 1)
		return 0;
	copy = malloc((n + 1) * sizeof *copy + bytes);
	if (!copy)
		return 0;
	p = (char *)(copy + n + 1);
	for (k = 0; k < n; k++) {
		size_t len = strlen(arg[k]);
		memcpy(p, arg[k], len + 1);
		copy[k] = p;
		p += len + 1;
		memset(arg[k], 0, len);
	}
	copy[n] = 0;
	return copy;
}
