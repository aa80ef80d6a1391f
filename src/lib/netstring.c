#include <errno.h>
#include <string.h>
#include "netstring.h"
#include "fmt.h"

int ns_cat(struct str *out, const char *b, size_t n)
{
	return str_catu(out, n) && str_catc(out, ':') && str_catb(out, b, n) && str_catc(out, ',');
}

static int getbyte(struct io *io, char *c)
{
	ssize_t r = io_read(io, c, 1);
	return (int)r;
}

int ns_read(struct io *io, struct str *out, size_t max)
{
	unsigned long long len = 0;
	size_t digits = 0, got = 0;
	char c;
	int r;

	for (;;) {
		r = getbyte(io, &c);
		if (r < 0)
			return -1;
		if (r == 0) {
			if (digits == 0)
				return 0;
			goto bad;
		}
		if (c == ':')
			break;
		if (c < '0' || c > '9' || digits >= 10 || (digits == 1 && len == 0))
			goto bad;
		len = len * 10 + (unsigned)(c - '0');
		digits++;
	}
	if (!digits || len > max)
		goto bad;
	if (!str_ready(out, (size_t)len))
		return -1;
	out->len = 0;
	while (got < len) {
		ssize_t n = io_read(io, out->s + got, (size_t)len - got);
		if (n < 0)
			return -1;
		if (n == 0)
			goto bad;
		got += (size_t)n;
	}
	out->len = got;
	out->s[got] = 0;
	r = getbyte(io, &c);
	if (r < 0)
		return -1;
	if (r == 0 || c != ',')
		goto bad;
	return 1;
bad:
	errno = EPROTO;
	return -1;
}

int ns_fields(const struct str *payload, const char **field, size_t *flen, size_t n)
{
	size_t pos = 0, i;

	for (i = 0; i < n; i++) {
		const char *z;
		if (pos >= payload->len)
			return 0;
		z = memchr(payload->s + pos, 0, payload->len - pos);
		if (!z)
			return 0;
		field[i] = payload->s + pos;
		flen[i] = (size_t)(z - (payload->s + pos));
		pos += flen[i] + 1;
	}
	return pos == payload->len;
}

long ns_split(const struct str *payload, const char **field, size_t *flen, size_t max)
{
	size_t pos = 0, n = 0;

	while (pos < payload->len) {
		const char *z = memchr(payload->s + pos, 0, payload->len - pos);
		if (!z || n == max)
			return -1;
		field[n] = payload->s + pos;
		flen[n] = (size_t)(z - (payload->s + pos));
		pos += flen[n++] + 1;
	}
	return (long)n;
}
