#include "case.h"

int case_eqn(const char *a, const char *b, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++) {
		char x = a[i], y = b[i];
		if (x >= 'A' && x <= 'Z')
			x = (char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (char)(y - 'A' + 'a');
		if (x != y)
			return 0;
	}
	return 1;
}

int case_eqb(const char *a, size_t an, const char *b, size_t bn)
{
	return an == bn && case_eqn(a, b, an);
}
