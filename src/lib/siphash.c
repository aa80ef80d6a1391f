#include "siphash.h"

static uint64_t rotl(uint64_t x, int b) { return (x << b) | (x >> (64 - b)); }

static uint64_t le64(const unsigned char *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

struct sipstate { uint64_t v0, v1, v2, v3; };

static void round_(struct sipstate *s)
{
	s->v0 += s->v1; s->v1 = rotl(s->v1, 13); s->v1 ^= s->v0; s->v0 = rotl(s->v0, 32);
	s->v2 += s->v3; s->v3 = rotl(s->v3, 16); s->v3 ^= s->v2;
	s->v0 += s->v3; s->v3 = rotl(s->v3, 21); s->v3 ^= s->v0;
	s->v2 += s->v1; s->v1 = rotl(s->v1, 17); s->v1 ^= s->v2; s->v2 = rotl(s->v2, 32);
}

static void absorb(struct sipstate *s, uint64_t w)
{
	s->v3 ^= w;
	round_(s);
	round_(s);
	s->v0 ^= w;
}

uint64_t siphash24(const unsigned char k[SIPHASH_KEY_BYTES], const void *m, size_t n)
{
	const unsigned char *p = m;
	uint64_t k0 = le64(k), k1 = le64(k + 8), last;
	struct sipstate s = { k0 ^ 0x736f6d6570736575ULL, k1 ^ 0x646f72616e646f6dULL,
	                      k0 ^ 0x6c7967656e657261ULL, k1 ^ 0x7465646279746573ULL };
	size_t i, whole = n - n % 8;

	for (i = 0; i < whole; i += 8)
		absorb(&s, le64(p + i));
	/* the last word: the remaining bytes, and the length's low byte on top */
	last = (uint64_t)(n & 0xff) << 56;
	for (i = 0; i < n % 8; i++)
		last |= (uint64_t)p[whole + i] << (8 * i);
	absorb(&s, last);
	s.v2 ^= 0xff;
	round_(&s);
	round_(&s);
	round_(&s);
	round_(&s);
	return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}
