/* DNS wire format: see dnswire.h. */
#include <string.h>
#include "dnswire.h"
#include "ascii.h"
#include "fmt.h"

#define C_IN 1
#define HEADER 12

int dns_reverse_name(char *out, size_t cap, const unsigned char *ip, size_t iplen, const char *zone)
{
	size_t o = 0, zl = strlen(zone), i;

	if (iplen == 4) {
		for (i = 4; i-- > 0;) {
			unsigned v = ip[i];
			char d[4];
			size_t k = 0;
			if (v >= 100)
				d[k++] = (char)('0' + v / 100);
			if (v >= 10)
				d[k++] = (char)('0' + v / 10 % 10);
			d[k++] = (char)('0' + v % 10);
			d[k++] = '.';
			if (o + k > cap)
				return -1;
			memcpy(out + o, d, k);
			o += k;
		}
	} else if (iplen == 16) {
		for (i = 16; i-- > 0;) {
			if (o + 4 > cap)
				return -1;
			out[o++] = fmt_hexdigit(ip[i]);
			out[o++] = '.';
			out[o++] = fmt_hexdigit(ip[i] >> 4);
			out[o++] = '.';
		}
	} else
		return -1;
	if (o + zl + 1 > cap)
		return -1;
	memcpy(out + o, zone, zl + 1);
	return 0;
}

size_t dns_query(unsigned char *out, size_t cap, uint16_t id, const char *name, unsigned qtype)
{
	size_t o = HEADER, nl = strlen(name);
	const char *p = name, *end = name + nl;

	/* the name's labels, a length byte before each, a zero byte after */
	if (nl == 0 || nl > 253 || cap < HEADER + nl + 2 + 4)
		return 0;
	memset(out, 0, HEADER);
	out[0] = (unsigned char)(id >> 8);
	out[1] = (unsigned char)id;
	out[2] = 0x01; /* RD */
	out[5] = 1;    /* QDCOUNT */
	while (p < end) {
		const char *dot = memchr(p, '.', (size_t)(end - p));
		size_t l = dot ? (size_t)(dot - p) : (size_t)(end - p);
		if (l == 0 || l > 63)
			return 0;
		out[o++] = (unsigned char)l;
		memcpy(out + o, p, l);
		o += l;
		p += l;
		if (dot && ++p == end)
			return 0; /* a trailing dot: not a name we make */
	}
	out[o++] = 0;
	out[o++] = (unsigned char)(qtype >> 8);
	out[o++] = (unsigned char)qtype;
	out[o++] = 0;
	out[o++] = C_IN;
	return o;
}

size_t dns_edns(unsigned char *q, size_t qlen, size_t cap)
{
	/* root owner, type OPT, the payload size as class, TTL 0 (no
	 * extended RCODE, version 0, no DO bit), no options */
	static const unsigned char opt[11] = { 0, 0, 41, DNS_EDNS_SIZE >> 8, DNS_EDNS_SIZE & 0xff, 0, 0, 0, 0, 0, 0 };

	if (qlen <= HEADER || cap - qlen < sizeof opt || q[10] || q[11])
		return 0;
	memcpy(q + qlen, opt, sizeof opt);
	q[11] = 1; /* ARCOUNT */
	return qlen + sizeof opt;
}

/* Steps over the name at m[*pos]: labels, ending in a zero byte or a
 * compression pointer (not followed: only its length matters here). */
static int skip_name(const unsigned char *m, size_t len, size_t *pos)
{
	size_t p = *pos;

	for (;;) {
		unsigned char l;
		if (p >= len)
			return -1;
		l = m[p];
		if (l == 0) {
			*pos = p + 1;
			return 0;
		}
		if ((l & 0xc0) == 0xc0) {
			if (p + 2 > len)
				return -1;
			*pos = p + 2;
			return 0;
		}
		if (l & 0xc0)
			return -1; /* the extended label types: never in an answer to us */
		p += 1 + (size_t)l;
	}
}

static unsigned get16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

int dns_name(const unsigned char *m, size_t len, size_t pos, char *out, size_t cap)
{
	size_t o = 0, jumps = 0;

	for (;;) {
		unsigned char l;
		if (pos >= len)
			return -1;
		l = m[pos];
		if (l == 0)
			break;
		if ((l & 0xc0) == 0xc0) {
			size_t to;
			if (pos + 2 > len || ++jumps > 64)
				return -1;
			to = (size_t)(l & 0x3f) << 8 | m[pos + 1];
			if (to >= pos)
				return -1; /* only backwards: no loops */
			pos = to;
			continue;
		}
		if (l & 0xc0 || pos + 1 + l > len)
			return -1;
		if (o + (o ? 1 : 0) + l + 1 > cap)
			return -1;
		if (o)
			out[o++] = '.';
		for (size_t i = 0; i < l; i++) {
			unsigned char c = m[pos + 1 + i];
			/* a dot or a byte outside printable ASCII inside a label
			 * would make another name of its text */
			if (c <= 0x20 || c >= 0x7f || c == '.')
				return -1;
			out[o++] = (char)c;
		}
		pos += 1 + (size_t)l;
	}
	if (cap < 1)
		return -1;
	out[o] = 0;
	return (int)o;
}

int dns_records(const unsigned char *m, size_t len, const unsigned char *q, size_t qlen, int *flags,
                int (*each)(void *, unsigned, const unsigned char *, size_t, size_t, size_t), void *ctx)
{
	size_t pos, i, qend = HEADER;
	unsigned ancount;
	int rcode;

	*flags = 0;
	/* the question's end: q may have an OPT record after it (dns_edns) */
	if (qlen <= HEADER || skip_name(q, qlen, &qend) == -1 || qlen - qend < 4)
		return -1;
	qend += 4;
	if (len < qend)
		return -1;
	if (m[0] != q[0] || m[1] != q[1])
		return -1;
	if (!(m[2] & 0x80) || (m[2] & 0x78))
		return -1; /* not a response, or not to a standard query */
	if (get16(m + 4) != 1)
		return -1;
	/* the question, as we asked it; a name compared without case, which
	 * leaves its length bytes (under 64) and the type and class alone */
	for (i = HEADER; i < qend; i++)
		if (ascii_tolower(m[i]) != ascii_tolower(q[i]))
			return -1;
	if (m[2] & 0x02)
		*flags |= DNS_TRUNCATED;
	if (!(m[2] & 0x04) && !(m[3] & 0x80))
		*flags |= DNS_LAME;
	rcode = m[3] & 0x0f;
	ancount = get16(m + 6);
	pos = qend;
	for (i = 0; i < ancount; i++) {
		unsigned type, class, rdlen;
		size_t rd;
		if (skip_name(m, len, &pos) == -1 || len - pos < 10)
			return *flags & DNS_TRUNCATED ? rcode : -1;
		type = get16(m + pos);
		class = get16(m + pos + 2);
		rdlen = get16(m + pos + 8);
		pos += 10;
		if (len - pos < rdlen)
			return *flags & DNS_TRUNCATED ? rcode : -1;
		rd = pos;
		pos += rdlen;
		if (class != C_IN || rcode != 0)
			continue; /* an NXDOMAIN's records mean nothing */
		if (each(ctx, type, m, len, rd, rdlen) == -1)
			return -1;
	}
	return rcode;
}

/* dns_answer's count of one record */
static int count_rr(void *ctx, unsigned type, const unsigned char *m, size_t len, size_t rdpos, size_t rdlen)
{
	struct dns_rrs *rrs = ctx;
	const unsigned char *rd = m + rdpos;

	(void)len;
	if (type == DNS_T_A) {
		if (rdlen != 4)
			return -1;
		if (rrs->na < DNS_ANSWER_ADDRS)
			memcpy(rrs->a[rrs->na++], rd, 4);
	} else if (type == DNS_T_AAAA) {
		if (rdlen != 16)
			return -1;
		rrs->naaaa++;
	} else if (type == DNS_T_MX) {
		if (rdlen < 3)
			return -1;
		if (rdlen == 3 && rd[2] == 0)
			rrs->null_mx = 1;
		else
			rrs->nmx++;
	}
	return 0;
}

int dns_answer(const unsigned char *m, size_t len, const unsigned char *q, size_t qlen, struct dns_rrs *rrs)
{
	int flags, rcode;

	memset(rrs, 0, sizeof *rrs);
	rcode = dns_records(m, len, q, qlen, &flags, count_rr, rrs);
	rrs->truncated = (flags & DNS_TRUNCATED) != 0;
	rrs->lame = (flags & DNS_LAME) != 0;
	return rcode;
}
