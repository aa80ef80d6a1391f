/* _smtp._tls.DOMAIN's TXT records, asked of every nameserver of
 * /etc/resolv.conf at once (src/lib/dnsq.c), over TCP when the answer is
 * too long for UDP (src/lib/dnsrr.c), as postern-dkimverify asks for
 * keys.  An answer's records are hostile: each is read with its lengths
 * checked, at most TXT_KEEP of them kept, each cut at TXT_TEXT_MAX. */
#include <string.h>
#include "reporter.h"
#include "dnsrr.h"
#include "die.h"
#include "seconds.h"

#define WAIT_MS 10000     /* UDP, all nameservers, resends included */
#define TCP_WAIT_MS 10000

static int fill(void *ctx, unsigned type, const unsigned char *m, size_t len, size_t rd, size_t rdlen)
{
	struct txt_records *t = ctx;
	size_t p = rd, end = rd + rdlen;
	struct str *s;

	(void)len;
	if (type != DNS_T_TXT)
		return 0; /* a CNAME on the way: the resolver followed it */
	while (p < end) { /* the strings must tile the data exactly */
		size_t l = m[p++];
		if (l > end - p)
			return -1;
		p += l;
	}
	if (t->n == TXT_KEEP) {
		t->more++;
		return 0;
	}
	s = &t->t[t->n];
	s->len = 0;
	t->cut[t->n] = 0;
	for (p = rd; p < end; p += 1 + m[p]) {
		size_t l = m[p];
		if (s->len + l > TXT_TEXT_MAX) {
			l = TXT_TEXT_MAX - s->len;
			t->cut[t->n] = 1;
		}
		if (!str_catb(s, (const char *)m + p + 1, l))
			die_nomem();
	}
	if (!str_catb(s, "", 0)) /* "": s->s is there, NUL-terminated */
		die_nomem();
	t->n++;
	return 0;
}

static void forget(void *ctx)
{
	struct txt_records *t = ctx;
	t->n = t->more = 0;
}

enum rua_status rua_lookup(const char *domain, struct str *to, size_t *nto, size_t *https, const char **why)
{
	static struct txt_records t;
	static struct dnsrr r;
	struct dnsq *q = &r.q;
	struct str name = STR_INIT;
	enum rua_status st;
	int rcode;

	*nto = *https = 0;
	forget(&t);
	if (!str_cats(&name, "_smtp._tls.") || !str_cats(&name, domain))
		die_nomem();
	if (name.len > TLSRPT_HOST_MAX) {
		str_free(&name);
		*why = "name too long";
		return RUA_NO_RECORD; /* no name that long exists */
	}
	r.fill = fill;
	r.forget = forget;
	r.ctx = &t;
	if (dnsrr_ask(&r, name.s, DNS_T_TXT) == -1) {
		str_free(&name);
		*why = "unable to ask";
		return RUA_DNS_ERROR;
	}
	str_free(&name);
	dnsq_wait(&q, 1, WAIT_MS);
	if (dnsrr_truncated(&r))
		dnsrr_tcp(&r, monotonic_ms() + TCP_WAIT_MS);
	rcode = dnsrr_end(&r);
	if (rcode == -1) {
		*why = "no answer";
		return RUA_DNS_ERROR;
	}
	if (rcode == 3 || t.n == 0) {
		*why = rcode == 3 ? "nxdomain" : "no record";
		return RUA_NO_RECORD;
	}
	st = rua_pick(&t, to, nto, https, why);
	return st;
}
