/* Which From domains this postern-dkimsign may ask postern-dkim to sign
 * for, decided before it asks: a domain control/dkimdomains names no key
 * for (nor for a parent) is passed on unsigned without a word to the key
 * holder, so that mail of domains without keys never waits on it; and
 * with -d or -f, the login's own domains, and the single From addresses
 * control/senderlogins gives it, only (doc/dkim.md, "Who signs what"). */
#include <string.h>
#include "dkimsign.h"
#include "ascii.h"
#include "control.h"
#include "die.h"
#include "dkim.h"

static struct str allowed;   /* -d domains, NUL-separated, lower case */
static struct str addresses; /* -f addresses, the same */
static struct str keyed;     /* control/dkimdomains' domains, the same */

/* s (n bytes), ASCII lower-cased, onto list, NUL-terminated */
static void append_lower(struct str *list, const char *s, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (!str_catc(list, (char)ascii_tolower(s[i])))
			ds_nomem();
	if (!str_catz(list))
		ds_nomem();
}

static int add(struct str *list, const char *d, size_t n)
{
	while (n && d[n - 1] == '.')
		n--;
	if (!n || !dkim_name_ok(d, n))
		return -1;
	append_lower(list, d, n);
	return 0;
}

void policy_allow(const char *domain)
{
	if (add(&allowed, domain, strlen(domain)) == -1)
		die(DS_BUG, "fatal: -d: not a domain: ", domain);
}

void policy_allow_address(const char *a)
{
	size_t n = strlen(a), at;

	for (at = n; at > 0 && a[at - 1] != '@'; at--)
		;
	if (at < 2 || !dkim_name_ok(a + at, n - at) || memchr(a, '"', at) || memchr(a, '@', at - 1))
		die(DS_BUG, "fatal: -f: not an address: ", a);
	append_lower(&addresses, a, n);
}

void policy_load(void)
{
	struct str lines = STR_INIT;
	const char *p;
	int r = control_lines("dkimdomains", &lines);

	if (r == -1)
		die_sys(DS_CONFIG, "fatal: unable to read control/dkimdomains");
	for (p = lines.s; r == 1 && p < lines.s + lines.len; p += strlen(p) + 1) {
		size_t n = strcspn(p, " \t");
		/* postern-dkim says what is wrong with a bad line; here it
		 * only decides whether to ask */
		if (add(&keyed, p, n) == -1)
			continue;
	}
	str_free(&lines);
}

/* dom is d, or under it */
static int covered(const struct str *dom, const char *d)
{
	size_t n = strlen(d);
	if (dom->len == n)
		return !memcmp(dom->s, d, n);
	return dom->len > n && dom->s[dom->len - n - 1] == '.' && !memcmp(dom->s + dom->len - n, d, n);
}

static int in(const struct str *dom, const struct str *list)
{
	const char *p;
	for (p = list->s; p && p < list->s + list->len; p += strlen(p) + 1)
		if (covered(dom, p))
			return 1;
	return 0;
}

static int listed(const struct str *a, const struct str *list)
{
	const char *p;
	for (p = list->s; p && p < list->s + list->len; p += strlen(p) + 1)
		if (strlen(p) == a->len && !memcmp(p, a->s, a->len))
			return 1;
	return 0;
}

const char *policy_check(const struct str *dom, const struct str *from)
{
	if (!in(dom, &keyed))
		return "no_key";
	if ((allowed.len || addresses.len) && !in(dom, &allowed) && !listed(from, &addresses))
		return "not_a_login_domain";
	return 0;
}
