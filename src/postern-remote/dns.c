/* DNS through the C library's resolver: res_query for the bytes, glibc's
 * ns_initparse/ns_parserr (bounds-checked) to split records, dn_expand for
 * names.  Every length is checked again here: the answer is hostile. */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <resolv.h>
#include <stdlib.h>
#include <string.h>
#include "remote.h"
#include "rand.h"

#define ANSWER_MAX 65536

int dns_parse_mx(const unsigned char *msg, size_t len, struct mx *out, size_t max, int *nullmx)
{
	ns_msg h;
	int i, count, n = 0;

	*nullmx = 0;
	if (len > ANSWER_MAX || ns_initparse(msg, (int)len, &h) == -1)
		return -1;
	count = ns_msg_count(h, ns_s_an);
	for (i = 0; i < count; i++) {
		ns_rr rr;
		const unsigned char *rd;
		char name[NS_MAXDNAME];
		int l;
		if (ns_parserr(&h, ns_s_an, i, &rr) == -1)
			return -1;
		if (ns_rr_type(rr) != ns_t_mx || ns_rr_class(rr) != ns_c_in)
			continue; /* a CNAME on the way is fine; the resolver followed it */
		rd = ns_rr_rdata(rr);
		if (ns_rr_rdlen(rr) < 3 || rd + ns_rr_rdlen(rr) > msg + len)
			return -1;
		l = dn_expand(msg, msg + len, rd + 2, name, sizeof name);
		if (l < 0 || l > ns_rr_rdlen(rr) - 2)
			return -1;
		if (name[0] == 0 || (name[0] == '.' && name[1] == 0)) {
			*nullmx = 1; /* RFC 7505: this domain takes no mail */
			continue;
		}
		if (strlen(name) > 253 || (size_t)n >= max)
			continue;
		memcpy(out[n].name, name, strlen(name) + 1);
		out[n].pref = (unsigned)((rd[0] << 8) | rd[1]);
		/* equal preferences in random order (RFC 5321 5.1); without
		 * randomness they keep the DNS server's order */
		if (!rand_bytes(&out[n].rnd, sizeof out[n].rnd))
			out[n].rnd = 0;
		n++;
	}
	return n;
}

int dns_parse_addrs(const unsigned char *msg, size_t len, int type, struct addr *out, size_t max)
{
	ns_msg h;
	int i, count, n = 0;
	size_t want = type == ns_t_a ? 4 : 16;

	if (len > ANSWER_MAX || ns_initparse(msg, (int)len, &h) == -1)
		return -1;
	count = ns_msg_count(h, ns_s_an);
	for (i = 0; i < count && (size_t)n < max; i++) {
		ns_rr rr;
		if (ns_parserr(&h, ns_s_an, i, &rr) == -1)
			return -1;
		if ((int)ns_rr_type(rr) != type || ns_rr_class(rr) != ns_c_in)
			continue;
		if (ns_rr_rdlen(rr) != want || ns_rr_rdata(rr) + want > msg + len)
			return -1;
		memset(out + n, 0, sizeof *out);
		out[n].af = type == ns_t_a ? AF_INET : AF_INET6;
		memcpy(out[n].a, ns_rr_rdata(rr), want);
		/* the name at the end of any CNAME chain the resolver followed
		 * (ns_parserr expanded it, at most NS_MAXDNAME bytes) */
		if (strlen(ns_rr_name(rr)) < sizeof out[n].target)
			memcpy(out[n].target, ns_rr_name(rr), strlen(ns_rr_name(rr)) + 1);
		n++;
	}
	return n;
}

/* The target of a CNAME in the answer, for a resolver that returns the
 * alias without following it.  1 found, 0 none, -1 malformed. */
static int cname_target(const unsigned char *msg, size_t len, char *out, size_t size)
{
	ns_msg h;
	int i, count;

	if (len > ANSWER_MAX || ns_initparse(msg, (int)len, &h) == -1)
		return -1;
	count = ns_msg_count(h, ns_s_an);
	for (i = 0; i < count; i++) {
		ns_rr rr;
		int l;
		if (ns_parserr(&h, ns_s_an, i, &rr) == -1)
			return -1;
		if (ns_rr_type(rr) != ns_t_cname)
			continue;
		if (ns_rr_rdata(rr) + ns_rr_rdlen(rr) > msg + len)
			return -1;
		l = dn_expand(msg, msg + len, ns_rr_rdata(rr), out, (int)size);
		if (l < 0 || l > ns_rr_rdlen(rr) || out[0] == 0)
			return -1;
		return 1;
	}
	return 0;
}

static int cmp_mx(const void *a, const void *b)
{
	const struct mx *x = a, *y = b;
	if (x->pref != y->pref)
		return x->pref < y->pref ? -1 : 1;
	return x->rnd < y->rnd ? -1 : x->rnd > y->rnd;
}

/* The AD bit (RFC 4035 3.2.3): the resolver validated the answer with
 * DNSSEC.  glibc clears it unless told to trust the resolver (trust-ad,
 * RES_TRUSTAD), which postern does: DANE asks for a validating resolver
 * on this host, or one reached over a path as trusted (doc/remote.md). */
static int answer_ad(const unsigned char *buf, int len) { return len >= 4 && (buf[3] & 0x20) != 0; }

static void resolver_init(void)
{
	static int done;

	if (done)
		return;
	done = 1;
	if (!(_res.options & RES_INIT))
		(void)res_init();
	_res.options |= RES_TRUSTAD;
}

void dns_one_resolver(void)
{
	resolver_init();
	/* glibc asks the next nameserver after a SERVFAIL, which is what a
	 * validating resolver answers for records that fail validation: a
	 * second resolver would hand on the forgery the first refused */
	if (_res.nscount > 1)
		_res.nscount = 1;
	_res.options &= ~(unsigned long)RES_ROTATE;
}

static enum dns_result query(const char *name, int type, unsigned char *buf, int *len)
{
	int r;
	resolver_init();
	h_errno = 0;
	r = res_query(name, ns_c_in, type, buf, ANSWER_MAX);
	if (r < 0) {
		switch (h_errno) {
		case HOST_NOT_FOUND: return DNS_NXDOMAIN;
		case NO_DATA: return DNS_NODATA;
		default: return DNS_TEMP;
		}
	}
	if (r > ANSWER_MAX)
		return DNS_TEMP; /* truncated by the library: do not guess */
	*len = r;
	return DNS_OK;
}

enum dns_result dns_mx(const char *domain, struct mx *out, size_t max, size_t *n, int *secure)
{
	static unsigned char buf[ANSWER_MAX];
	int len = 0, k, nullmx;
	enum dns_result r = query(domain, ns_t_mx, buf, &len);

	*n = 0;
	*secure = 0;
	if (r != DNS_OK)
		return r;
	*secure = answer_ad(buf, len);
	k = dns_parse_mx(buf, (size_t)len, out, max, &nullmx);
	if (k < 0)
		return DNS_TEMP;
	if (nullmx)
		return DNS_NULLMX;
	if (k == 0)
		return DNS_NODATA;
	qsort(out, (size_t)k, sizeof *out, cmp_mx);
	*n = (size_t)k;
	return DNS_OK;
}

enum dns_result dns_addrs(const char *name, unsigned port, int named, struct addr *out, size_t max,
                          size_t *n)
{
	static unsigned char buf[ANSWER_MAX];
	static const int types[2] = { ns_t_aaaa, ns_t_a };
	enum dns_result worst = DNS_NXDOMAIN;
	size_t t, start = *n;

	for (t = 0; t < 2; t++) {
		int len = 0, k, hops, secure = 1;
		size_t i;
		char target[NS_MAXDNAME];
		const char *q = name;
		enum dns_result r = DNS_TEMP;

		/* at most 4 CNAME hops chased by hand, for a resolver that
		 * returns the alias alone; secure only if every answer was */
		for (hops = 0; hops < 5; hops++) {
			struct addr probe;
			r = query(q, types[t], buf, &len);
			if (r == DNS_OK && !answer_ad(buf, len))
				secure = 0;
			if (r != DNS_OK || dns_parse_addrs(buf, (size_t)len, types[t], &probe, 1) != 0 ||
			    cname_target(buf, (size_t)len, target, sizeof target) != 1)
				break;
			q = target;
		}
		if (r == DNS_TEMP)
			worst = DNS_TEMP;
		else if (r == DNS_NODATA && worst == DNS_NXDOMAIN)
			worst = DNS_NODATA;
		if (r != DNS_OK || *n >= max)
			continue;
		k = dns_parse_addrs(buf, (size_t)len, types[t], out + *n, max - *n);
		if (k < 0) {
			worst = DNS_TEMP;
			continue;
		}
		for (i = *n; i < *n + (size_t)k; i++) {
			size_t nl = strlen(name);
			if (nl > sizeof out[i].host - 1)
				nl = sizeof out[i].host - 1;
			memcpy(out[i].host, name, nl);
			out[i].host[nl] = 0;
			out[i].port = port;
			out[i].named = named;
			out[i].secure = secure;
		}
		*n += (size_t)k;
	}
	return *n > start ? DNS_OK : worst;
}

static int cmp_text(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The usable records, each in the text form ending in NUL, sorted (as
 * strings), the first TLSA_RECORDS_MAX of them into list: a resolver
 * rotates the order of an RRset, and which records reach the engine must
 * not change from one try to the next.  Only the first PARSED_MAX usable
 * records of the answer are looked at (a host publishes a few), and
 * *usable counts those. */
int dns_parse_tlsa(const unsigned char *msg, size_t len, struct str *list, size_t *usable, size_t *total)
{
	enum { PARSED_MAX = 64 }; /* usable records looked at; a host has a few */
	struct str all = STR_INIT;
	const char *rec[PARSED_MAX];
	ns_msg h;
	int i, count, ret = 0;
	size_t n = 0, off, k;

	*usable = *total = 0;
	if (len > ANSWER_MAX || ns_initparse(msg, (int)len, &h) == -1)
		return -1;
	count = ns_msg_count(h, ns_s_an);
	for (i = 0; i < count; i++) {
		ns_rr rr;
		int r;
		if (ns_parserr(&h, ns_s_an, i, &rr) == -1) {
			ret = -1;
			break;
		}
		if (ns_rr_type(rr) != ns_t_tlsa || ns_rr_class(rr) != ns_c_in)
			continue; /* a CNAME on the way, an RRSIG */
		if (ns_rr_rdata(rr) + ns_rr_rdlen(rr) > msg + len) {
			ret = -1;
			break;
		}
		++*total;
		if (n == PARSED_MAX)
			continue;
		r = tlsa_text_from_rdata(&all, ns_rr_rdata(rr), ns_rr_rdlen(rr));
		if (r < 0 || (r == 1 && !str_catz(&all))) {
			ret = -2;
			break;
		}
		n += (size_t)r;
	}
	*usable = n;
	for (k = 0, off = 0; ret == 0 && k < n; off += strlen(all.s + off) + 1)
		rec[k++] = all.s + off;
	if (ret == 0) {
		qsort(rec, n, sizeof *rec, cmp_text);
		for (k = 0; k < n && k < TLSA_RECORDS_MAX; k++)
			if (!str_cats(list, rec[k]) || !str_catz(list)) {
				ret = -2;
				break;
			}
	}
	str_free(&all);
	return ret;
}

enum dns_result dns_tlsa(const char *host, unsigned port, struct str *list, size_t *usable, size_t *total,
                         int *secure)
{
	static unsigned char buf[ANSWER_MAX];
	struct str q = STR_INIT;
	int len = 0, k;
	enum dns_result r;

	*usable = *total = 0;
	*secure = 0;
	if (!str_cats(&q, "_") || !str_catu(&q, port) || !str_cats(&q, "._tcp.") || !str_cats(&q, host) ||
	    !str_catz(&q))
		return DNS_TEMP;
	if (q.len - 1 > 253)
		r = DNS_NXDOMAIN; /* no name that long exists (RFC 1035 3.1) */
	else
		r = query(q.s, ns_t_tlsa, buf, &len);
	str_free(&q);
	if (r != DNS_OK)
		return r;
	*secure = answer_ad(buf, len);
	k = dns_parse_tlsa(buf, (size_t)len, list, usable, total);
	if (k == -2)
		return DNS_TEMP; /* out of memory: not a reason to go in clear */
	if (k < 0)
		return DNS_TEMP;
	return *total ? DNS_OK : DNS_NODATA;
}

int dns_parse_txt(const unsigned char *msg, size_t len, struct str *list, size_t max)
{
	ns_msg h;
	int i, count, n = 0;

	list->len = 0;
	if (len > ANSWER_MAX || ns_initparse(msg, (int)len, &h) == -1)
		return -1;
	count = ns_msg_count(h, ns_s_an);
	for (i = 0; i < count; i++) {
		ns_rr rr;
		const unsigned char *rd, *end;
		if (ns_parserr(&h, ns_s_an, i, &rr) == -1)
			return -1;
		if (ns_rr_type(rr) != ns_t_txt || ns_rr_class(rr) != ns_c_in)
			continue; /* a CNAME on the way: the resolver followed it */
		rd = ns_rr_rdata(rr);
		end = rd + ns_rr_rdlen(rr);
		if (end > msg + len)
			return -1;
		if ((size_t)n >= max) {
			n++; /* counted, not kept: the caller knows there were more */
			continue;
		}
		/* the character-strings joined (RFC 7208 3.3, RFC 8461 3.1) */
		while (rd < end) {
			size_t l = *rd++;
			if (l > (size_t)(end - rd))
				return -1;
			/* the list is NUL-separated: a NUL inside a record would
			 * split it, and shift every record after it */
			if (memchr(rd, 0, l))
				return -1;
			if (!str_catb(list, (const char *)rd, l))
				return -2;
			rd += l;
		}
		if (!str_catz(list))
			return -2;
		n++;
	}
	return n;
}

enum dns_result dns_txt(const char *name, struct str *list, size_t max, size_t *n)
{
	static unsigned char buf[ANSWER_MAX];
	int len = 0, k;
	enum dns_result r;

	*n = 0;
	list->len = 0;
	if (strlen(name) > 253)
		return DNS_NXDOMAIN;
	r = query(name, ns_t_txt, buf, &len);
	if (r != DNS_OK)
		return r;
	k = dns_parse_txt(buf, (size_t)len, list, max);
	if (k < 0)
		return DNS_TEMP;
	*n = (size_t)k;
	return k ? DNS_OK : DNS_NODATA;
}

int addr_literal(const char *s, size_t n, struct addr *a)
{
	char buf[64];
	memset(a, 0, sizeof *a);
	if (n >= 5 && memcmp(s, "IPv6:", 5) == 0) {
		s += 5;
		n -= 5;
		if (n == 0 || n >= sizeof buf)
			return 0;
		memcpy(buf, s, n);
		buf[n] = 0;
		a->af = AF_INET6;
		return inet_pton(AF_INET6, buf, a->a) == 1;
	}
	if (n == 0 || n >= sizeof buf)
		return 0;
	memcpy(buf, s, n);
	buf[n] = 0;
	if (inet_pton(AF_INET, buf, a->a) == 1) {
		a->af = AF_INET;
		return 1;
	}
	a->af = AF_INET6;
	return inet_pton(AF_INET6, buf, a->a) == 1;
}

void addr_fmt(const struct addr *a, char *buf, size_t size)
{
	if (!inet_ntop(a->af, a->a, buf, (socklen_t)size) && size)
		buf[0] = 0;
}
