/* An open-addressing table with linear probing, at most half full, and
 * deletion by shifting back the entries that follow (no tombstones), so a
 * long-running listener never needs a rebuild. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "perip.h"
#include "fnv.h"

struct slot {
	struct perip_key k;
	size_t count; /* 0: empty */
};

static struct slot *table;
static size_t mask;

void perip_key(struct perip_key *k, int family, const unsigned char *addr)
{
	ip_key(k->b, family, addr);
}

int perip_init(size_t max)
{
	size_t size = 16;

	while (size < 2 * max)
		size *= 2;
	free(table);
	table = calloc(size, sizeof *table);
	if (!table)
		return 0;
	mask = size - 1;
	return 1;
}

/* FNV-1a.  A client that owns many addresses could pick ones that collide;
 * at worst a lookup then walks every live connection, which -c bounds. */
static size_t home_of(const struct perip_key *k)
{
	unsigned long long h = fnv1a64(k->b, sizeof k->b);

	return (size_t)(h ^ (h >> 32)) & mask;
}

/* The slot holding k, or the empty slot where it would go. */
static size_t find(const struct perip_key *k)
{
	size_t i = home_of(k);

	while (table[i].count && memcmp(&table[i].k, k, sizeof *k) != 0)
		i = (i + 1) & mask;
	return i;
}

size_t perip_count(const struct perip_key *k)
{
	return table[find(k)].count;
}

void perip_add(const struct perip_key *k)
{
	size_t i = find(k);

	if (!table[i].count)
		table[i].k = *k;
	table[i].count++;
}

void perip_del(const struct perip_key *k)
{
	size_t i = find(k), j;

	if (!table[i].count || --table[i].count)
		return;
	/* i is empty now: pull back each later entry of the run that may no
	 * longer be found past the hole (its home is not in (i, j]). */
	for (j = (i + 1) & mask; table[j].count; j = (j + 1) & mask) {
		size_t h = home_of(&table[j].k);
		if (i <= j ? (i < h && h <= j) : (i < h || h <= j))
			continue;
		table[i] = table[j];
		table[j].count = 0;
		i = j;
	}
}
