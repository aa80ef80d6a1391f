/* SMTP AUTH's decoding (sasl.h).  The base64 is held to the canonical
 * form (src/lib/base64.c); a name is held to loginname.h's rules before
 * anything is asked of postern-auth, which would refuse it unanswered. */
#include <string.h>
#include "sasl.h"
#include "base64.h"
#include "case.h"

enum sasl_mech sasl_mechanism(const char *arg, size_t n, size_t *resp)
{
	const char *sp = memchr(arg, ' ', n);
	size_t mlen = sp ? (size_t)(sp - arg) : n;
	enum sasl_mech m = SASL_NONE;

	if (case_eqb(arg, mlen, "plain", 5))
		m = SASL_PLAIN;
	else if (case_eqb(arg, mlen, "login", 5))
		m = SASL_LOGIN;
	*resp = sp ? mlen + 1 : n;
	return m;
}

/* Decodes b64 into s->buf from s->len on: the new bytes' offset in *at
 * and their count in *got.  "=" is RFC 4954's empty response. */
static int decode(const char *b64, size_t n, struct sasl *s, size_t *at, size_t *got)
{
	*at = s->len;
	*got = 0;
	if (n == 1 && b64[0] == '=')
		return SASL_OK;
	if (b64_decode(b64, n, s->buf + s->len, SASL_MAX - s->len, got) == -1)
		return SASL_SYNTAX;
	s->len += *got;
	return SASL_OK;
}

static int name_ok(const char *u, size_t n)
{
	size_t at;
	return n && login_name(u, n, &at);
}

int sasl_plain(const char *b64, size_t n, struct sasl *s)
{
	const char *m, *z1, *z2;
	size_t at, got, zlen, ulen;

	s->len = 0;
	if (decode(b64, n, s, &at, &got) != SASL_OK)
		return SASL_SYNTAX;
	m = (const char *)s->buf;
	z1 = memchr(m, 0, got);
	z2 = z1 ? memchr(z1 + 1, 0, got - (size_t)(z1 + 1 - m)) : 0;
	if (!z2 || memchr(z2 + 1, 0, got - (size_t)(z2 + 1 - m)))
		return SASL_SYNTAX; /* not exactly two NULs */
	zlen = (size_t)(z1 - m);
	ulen = (size_t)(z2 - z1 - 1);
	s->user = z1 + 1;
	s->ulen = ulen;
	s->pass = z2 + 1;
	s->plen = got - (size_t)(z2 + 1 - m);
	/* no proxying: the authorization identity is none or the user's own */
	if (zlen && (zlen != ulen || memcmp(m, s->user, ulen)))
		return SASL_CREDS;
	if (!name_ok(s->user, ulen) || s->plen == 0 || s->plen > PASSWORD_MAX)
		return SASL_CREDS;
	return SASL_OK;
}

int sasl_login_user(const char *b64, size_t n, struct sasl *s)
{
	size_t at, got;

	s->len = 0;
	if (decode(b64, n, s, &at, &got) != SASL_OK || got > LOGINNAME_MAX || memchr(s->buf, 0, got))
		return SASL_SYNTAX;
	s->user = (const char *)s->buf;
	s->ulen = got;
	return name_ok(s->user, got) ? SASL_OK : SASL_CREDS;
}

int sasl_login_pass(const char *b64, size_t n, struct sasl *s)
{
	size_t at, got;

	if (decode(b64, n, s, &at, &got) != SASL_OK || memchr(s->buf + at, 0, got))
		return SASL_SYNTAX;
	s->pass = (const char *)s->buf + at;
	s->plen = got;
	return got && got <= PASSWORD_MAX ? SASL_OK : SASL_CREDS;
}
