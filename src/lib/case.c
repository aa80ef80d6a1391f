#include "case.h"
#include "ascii.h"

int case_eqn(const char *a, const char *b, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (ascii_tolower(a[i]) != ascii_tolower(b[i]))
			return 0;
	return 1;
}

int case_eqb(const char *a, size_t an, const char *b, size_t bn)
{
	return an == bn && case_eqn(a, b, an);
}
