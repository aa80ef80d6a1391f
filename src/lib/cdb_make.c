#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "cdb.h"

static void put32(unsigned char *p, uint32_t u)
{
	p[0] = (unsigned char)u;
	p[1] = (unsigned char)(u >> 8);
	p[2] = (unsigned char)(u >> 16);
	p[3] = (unsigned char)(u >> 24);
}

static int too_big(void)
{
	errno = EFBIG;
	return 0;
}

int cdb_make_add(struct cdb_make *m, const char *key, size_t klen, const char *data, size_t dlen)
{
	unsigned char b[8];
	size_t pos = m->recs.s ? m->recs.len : 0;

	/* offsets are 32 bits, counted from the end of the 2048-byte header */
	if (klen > 0xffffffffUL || dlen > 0xffffffffUL - klen || pos > 0xffffffffUL - 2048 - 8 - klen - dlen)
		return too_big();
	put32(b, (uint32_t)klen);
	put32(b + 4, (uint32_t)dlen);
	if (!str_catb(&m->recs, (char *)b, 8) || !str_catb(&m->recs, key, klen) || !str_catb(&m->recs, data, dlen))
		return 0;
	put32(b, cdb_hash(key, klen));
	put32(b + 4, (uint32_t)(2048 + pos));
	if (!str_catb(&m->index, (char *)b, 8))
		return 0;
	m->n++;
	return 1;
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int cdb_make_finish(struct cdb_make *m, struct str *out)
{
	size_t count[256], start[256], i, total;
	unsigned char *idx = (unsigned char *)m->index.s;
	unsigned char *slots;
	size_t reclen = m->recs.s ? m->recs.len : 0;

	memset(count, 0, sizeof count);
	for (i = 0; i < m->n; i++)
		count[get32(idx + i * 8) & 255]++;
	/* each table has twice as many slots as records; all tables follow the records */
	if (m->n > (0xffffffffUL - 2048 - reclen) / 16)
		return too_big();
	total = 2048 + reclen + m->n * 16;
	out->len = 0;
	if (!str_ready(out, total))
		return 0;
	memset(out->s, 0, total);
	if (reclen)
		memcpy(out->s + 2048, m->recs.s, reclen);
	slots = (unsigned char *)out->s + 2048 + reclen;
	{
		size_t at = 0;
		for (i = 0; i < 256; i++) {
			start[i] = at;
			put32((unsigned char *)out->s + i * 8, (uint32_t)(2048 + reclen + at * 8));
			put32((unsigned char *)out->s + i * 8 + 4, (uint32_t)(count[i] * 2));
			at += count[i] * 2;
		}
	}
	for (i = 0; i < m->n; i++) {
		uint32_t h = get32(idx + i * 8);
		size_t t = h & 255, n = count[t] * 2, s = (h >> 8) % n;
		for (;;) {
			unsigned char *p = slots + (start[t] + s) * 8;
			if (!get32(p + 4)) {
				memcpy(p, idx + i * 8, 8);
				break;
			}
			if (++s == n)
				s = 0;
		}
	}
	out->len = total;
	out->s[total] = 0;
	return 1;
}

void cdb_make_free(struct cdb_make *m)
{
	str_free(&m->recs);
	str_free(&m->index);
	m->n = 0;
}
