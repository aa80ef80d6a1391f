#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cdb.h"

uint32_t cdb_hash(const char *key, size_t len)
{
	uint32_t h = 5381;
	size_t i;
	for (i = 0; i < len; i++)
		h = ((h << 5) + h) ^ (unsigned char)key[i];
	return h;
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int cdb_open_fd(struct cdb *c, int fd)
{
	struct stat st;
	void *m;

	c->map = 0;
	c->size = 0;
	if (fstat(fd, &st) == -1)
		return -1;
	if (!S_ISREG(st.st_mode) || st.st_size < 2048 || (unsigned long long)st.st_size > 0xffffffffULL) {
		errno = EPROTO;
		return -1;
	}
	m = mmap(0, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		return -1;
	c->map = m;
	c->size = (size_t)st.st_size;
	return 1;
}

int cdb_open(struct cdb *c, const char *path)
{
	int fd = openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	int r, e;

	c->map = 0;
	c->size = 0;
	if (fd == -1)
		return errno == ENOENT ? 0 : -1;
	r = cdb_open_fd(c, fd);
	e = errno;
	close(fd);
	errno = e;
	return r;
}

void cdb_close(struct cdb *c)
{
	if (c->map)
		munmap((void *)c->map, c->size);
	c->map = 0;
	c->size = 0;
}

static int corrupt(void)
{
	errno = EPROTO;
	return -1;
}

int cdb_find(const struct cdb *c, const char *key, size_t klen, const char **data, size_t *dlen)
{
	uint32_t h = cdb_hash(key, klen);
	uint32_t tpos, tslots, slot, i;

	if (!c->map || c->size < 2048)
		return corrupt();
	tpos = get32(c->map + (h & 255) * 8);
	tslots = get32(c->map + (h & 255) * 8 + 4);
	if (!tslots)
		return 0;
	if (tpos < 2048 || tpos > c->size || tslots > (c->size - tpos) / 8)
		return corrupt();
	slot = (h >> 8) % tslots;
	for (i = 0; i < tslots; i++) {
		const unsigned char *s = c->map + tpos + (size_t)slot * 8;
		uint32_t sh = get32(s), rpos = get32(s + 4);
		if (!rpos)
			return 0;
		if (sh == h) {
			uint32_t kl, dl;
			if (rpos < 2048 || rpos > c->size || c->size - rpos < 8)
				return corrupt();
			kl = get32(c->map + rpos);
			dl = get32(c->map + rpos + 4);
			if (kl > c->size - rpos - 8 || dl > c->size - rpos - 8 - kl)
				return corrupt();
			if (kl == klen && memcmp(c->map + rpos + 8, key, klen) == 0) {
				if (data)
					*data = (const char *)c->map + rpos + 8 + kl;
				if (dlen)
					*dlen = dl;
				return 1;
			}
		}
		if (++slot == tslots)
			slot = 0;
	}
	return 0;
}
