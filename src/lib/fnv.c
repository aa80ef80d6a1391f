/* fnv.h */
#include "fnv.h"

unsigned long long fnv1a64(const void *p, size_t n)
{
	const unsigned char *b = p;
	unsigned long long h = 14695981039346656037ULL; /* the offset basis */
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= b[i];
		h *= 1099511628211ULL; /* FNV's 64-bit prime */
	}
	return h;
}
