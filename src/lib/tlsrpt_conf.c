/* control/tlsrpt: who this host is in its TLS reports (doc/tlsrpt.md,
 * "control/tlsrpt"): see tlsrpt.h. */
#include <string.h>
#include "tlsrpt.h"
#include "ascii.h"

static void bad(struct tlsrpt_conf *c, const char *name, size_t n)
{
	if (!c->bad++) {
		if (n > sizeof c->bad_name - 1)
			n = sizeof c->bad_name - 1;
		memcpy(c->bad_name, name, n);
		c->bad_name[n] = 0;
	}
}

static int all(const char *s, size_t n, int space)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (!(ascii_vchar(s[i]) || (space && s[i] == ' ')))
			return 0;
	return 1;
}

int tlsrpt_conf(const struct str *lines, const char *me, struct tlsrpt_conf *c)
{
	const char *p;
	int org = 0, contact = 0, from = 0, org_bad = 0;

	c->org.len = c->contact.len = c->from.len = 0;
	c->bad = 0;
	c->bad_name[0] = 0;
	for (p = lines->s; p && p < lines->s + lines->len; p += strlen(p) + 1) {
		const char *eq = strchr(p, '=');
		size_t nl = eq ? (size_t)(eq - p) : strlen(p), vl;
		const char *v = eq ? eq + 1 : "";
		vl = strlen(v);
		if (eq && nl == 12 && !memcmp(p, "organization", 12) && !org) {
			org = 1;
			if (vl == 0 || vl > TLSRPT_ORG_MAX || !all(v, vl, 1) || v[0] == ' ') {
				org_bad = 1;
				bad(c, p, nl);
			} else if (!str_copyb(&c->org, v, vl))
				return -1;
		} else if (eq && nl == 7 && !memcmp(p, "contact", 7) && !contact && vl && vl <= TLSRPT_CONTACT_MAX &&
		           all(v, vl, 0)) {
			contact = 1;
			if (!str_copyb(&c->contact, v, vl))
				return -1;
		} else if (eq && nl == 4 && !memcmp(p, "from", 4) && !from && tlsrpt_addr_ok(v, vl)) {
			from = 1;
			if (!str_copyb(&c->from, v, vl))
				return -1;
		} else
			bad(c, p, nl);
	}
	if (!org || org_bad)
		return 0;
	if (!from && (!str_copys(&c->from, "postmaster@") || !str_cats(&c->from, me)))
		return -1;
	if (!contact && !str_copyb(&c->contact, c->from.s, c->from.len))
		return -1;
	return 1;
}
