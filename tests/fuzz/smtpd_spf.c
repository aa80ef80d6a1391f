/* libFuzzer target for postern-smtpd's SPF evaluation
 * (src/postern-smtpd/spf.c).  The input is the zone: its lines are SPF
 * records, and the TXT lookup of any name answers with the line its name
 * hashes to (the first line for the sender's domain), so that include,
 * redirect and macros reach records the fuzzer wrote; A, AAAA, MX and PTR
 * lookups answer with records made from the name's hash, the client's
 * address among them now and then, and a name under "error." or
 * "timeout." fails or runs out of time.  Besides the sanitizers' checks it
 * asserts what spfcheck.c relies on: a result in range, a why that is a
 * string, and no more lookups than RFC 7208's limits allow (ten terms
 * that look up, each at most eleven lookups, a TXT lookup for each
 * include and redirect, and %{p} once a domain). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "spf.h"

static const uint8_t *zone;
static size_t zone_len;
static int calls;

static unsigned hash(const char *s)
{
	unsigned h = 2166136261u;
	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

/* Line k of the zone (0 for the first), as a record. */
static void line(size_t k, struct spf_answer *a)
{
	size_t i = 0, start = 0, n = 0;

	for (i = 0; i <= zone_len; i++) {
		if (i == zone_len || zone[i] == '\n') {
			if (n++ == k) {
				size_t l = i - start;
				if (l > SPF_RECORD_MAX)
					l = SPF_RECORD_MAX;
				memcpy(a->spf, zone + start, l);
				a->spf[l] = 0;
				a->spflen = l;
				a->nspf = 1;
				a->n = 1;
				return;
			}
			start = i + 1;
		}
	}
}

static size_t lines(void)
{
	size_t i, n = 1;
	for (i = 0; i < zone_len; i++)
		n += zone[i] == '\n';
	return n;
}

static int lookup(void *ctx, const char *name, unsigned type, struct spf_answer *a)
{
	const struct spf_request *r = ctx;
	unsigned h = hash(name);
	size_t i;

	calls++;
	/* the sender's domain always has its one record: the fuzzer's */
	if (!strcmp(name, "f.example") && type == SPF_T_TXT) {
		a->status = SPF_DNS_OK;
		line(0, a);
		return 0;
	}
	if (!strncmp(name, "timeout.", 8))
		return -1;
	if (!strncmp(name, "error.", 6) || h % 17 == 0) {
		a->status = SPF_DNS_ERROR;
		return 0;
	}
	if (h % 13 == 0) {
		a->status = SPF_DNS_NXDOMAIN;
		return 0;
	}
	a->status = SPF_DNS_OK;
	switch (type) {
	case SPF_T_TXT:
		line(h % lines(), a);
		if (h % 11 == 0)
			a->nspf = 2;
		break;
	case SPF_T_A:
	case SPF_T_AAAA:
		a->n = a->naddr = h % 4;
		for (i = 0; i < a->naddr; i++) {
			memset(a->addr[i], (int)(h >> (i * 8)), 16);
			if ((h >> i) % 3 == 0)
				memcpy(a->addr[i], r->ip, r->iplen);
		}
		break;
	case SPF_T_MX:
	case SPF_T_PTR:
		a->n = a->nname = h % (SPF_NAMES_MAX + 1);
		for (i = 0; i < a->nname; i++) {
			char *o = a->name[i];
			o[0] = 'm';
			o[1] = (char)('a' + i);
			memcpy(o + 2, ".f.example", 11);
		}
		break;
	default: abort();
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	static struct spf_request r;
	enum spf_result res;

	if (n < 1)
		return 0;
	memset(&r, 0, sizeof r);
	r.iplen = d[0] & 1 ? 16 : 4;
	memset(r.ip, 0x5a, sizeof r.ip);
	r.sender = d[0] & 2 ? "strong-bad@f.example" : "@f.example";
	r.helo = "helo.f.example";
	r.lookup = lookup;
	r.ctx = &r;
	zone = d + 1;
	zone_len = n - 1;
	calls = 0;
	res = spf_check(&r);
	if ((unsigned)res > SPF_PERMERROR || !memchr(r.why, 0, sizeof r.why))
		abort();
	if (calls > 11 + 10 * 11 + 11 * 11)
		abort();
	if (strcmp(r.sender, d[0] & 2 ? "strong-bad@f.example" : "@f.example") != 0)
		abort();
	return 0;
}
