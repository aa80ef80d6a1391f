#include <string.h>
#include "route.h"
#include "addr.h"
#include "username.h"

static int is_user(const struct route_conf *c, const char *s, size_t n)
{
	char name[USERNAME_MAX + 1];
	unsigned long long uid;

	if (!username_ok(s, n))
		return 0;
	memcpy(name, s, n);
	name[n] = 0;
	return c->lookup(name, &uid) == 1 && uid >= c->minuid && uid != 0;
}

int route_is_local(const struct route_conf *c, const char *addr, size_t len)
{
	size_t at = addr_at(addr, len);

	return at < len && (domain_listed(addr + at + 1, len - at - 1, &c->locals) ||
	                    domain_listed(addr + at + 1, len - at - 1, &c->virtuals));
}

int route(const struct route_conf *c, const char *addr, size_t len, struct str *user,
          struct str *ext)
{
	size_t at = addr_at(addr, len), i;
	const char *dom;
	size_t dlen;
	struct str lp = STR_INIT;
	int r = -1;

	user->len = ext->len = 0;
	if (at >= len)
		return ROUTE_REMOTE; /* never happens: envelope_parse checked the address */
	if (!route_is_local(c, addr, len))
		return ROUTE_REMOTE;
	dom = addr + at + 1;
	dlen = len - at - 1;
	if (!str_copyb(&lp, addr, at))
		goto out;
	lowercase(lp.s, lp.len);
	if (!domain_listed(dom, dlen, &c->locals)) { /* a virtual domain */
		if (str_copys(user, c->vmail) && str_copyb(ext, lp.s, lp.len))
			r = ROUTE_LOCAL;
		goto out;
	}
	/* The longest prefix that names a user: the whole local part, then
	 * every prefix that ends just before a separator, right to left. */
	if (is_user(c, lp.s, lp.len)) {
		if (str_copyb(user, lp.s, lp.len) && str_copyb(ext, "", 0))
			r = ROUTE_LOCAL;
		goto out;
	}
	for (i = lp.len; i > 0; i--) {
		size_t k = i - 1;
		if (!c->seps.s || !memchr(c->seps.s, lp.s[k], c->seps.len))
			continue;
		if (is_user(c, lp.s, k)) {
			if (str_copyb(user, lp.s, k) && str_copyb(ext, lp.s + k + 1, lp.len - k - 1))
				r = ROUTE_LOCAL;
			goto out;
		}
	}
	if (str_copys(user, c->alias) && str_copyb(ext, lp.s, lp.len))
		r = ROUTE_LOCAL;
out:
	str_free(&lp);
	return r;
}
