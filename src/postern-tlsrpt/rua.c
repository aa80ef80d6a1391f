/* Where a report goes: the one TLSRPT record among a domain's TXT records
 * (RFC 8460 3: none, or more than one, is no reporting), and the
 * addresses of its mailto: URIs; https: ones are counted and left out
 * (doc/tlsrpt.md, "What is not done"). */
#include <string.h>
#include "reporter.h"

static int listed(const struct str *to, const struct str *a)
{
	const char *p;
	for (p = to->s; p && p < to->s + to->len; p += strlen(p) + 1)
		if (strlen(p) == a->len && !memcmp(p, a->s, a->len))
			return 1;
	return 0;
}

enum rua_status rua_pick(const struct txt_records *t, struct str *to, size_t *nto, size_t *https, const char **why)
{
	const char *uri[TLSRPT_RUA_MAX];
	size_t uri_len[TLSRPT_RUA_MAX], nuri, more, i, found = t->n;
	struct str a = STR_INIT;
	int r;

	to->len = 0;
	*nto = *https = 0;
	*why = "no record";
	for (i = 0; i < t->n; i++) {
		const char *w;
		if (tlsrpt_txt(t->t[i].s ? t->t[i].s : "", t->t[i].len, uri, uri_len, &nuri, &more, &w) == 0)
			continue;
		if (found != t->n) {
			*why = "two records";
			return RUA_NO_RECORD;
		}
		found = i;
	}
	/* records past TXT_KEEP were not looked at: one of them may be a
	 * second TLSRPT record, so there is no telling which is the one */
	if (found == t->n)
		return RUA_NO_RECORD;
	if (t->more) {
		*why = "too many records";
		return RUA_NO_RECORD;
	}
	if (t->cut[found]) {
		*why = "record too long";
		return RUA_NO_RECORD;
	}
	if (tlsrpt_txt(t->t[found].s, t->t[found].len, uri, uri_len, &nuri, &more, why) != 1)
		return RUA_NO_RECORD;
	for (i = 0; i < nuri; i++) {
		int https_;
		r = tlsrpt_mailto(uri[i], uri_len[i], &a, &https_);
		if (r == -2 || (r == 1 && !listed(to, &a) && (!str_cat(to, &a) || !str_catz(to)))) {
			str_free(&a);
			*why = "out of memory";
			return RUA_DNS_ERROR;
		}
		*https += (size_t)https_;
	}
	str_free(&a);
	for (i = 0; to->s && i < to->len; i++)
		*nto += to->s[i] == 0;
	return *nto ? RUA_FOUND : RUA_NO_MAILTO;
}
