/* The records are checked for their shape here; what an address may
 * hold is srs_forward's and srs_reverse's to judge, and both judge
 * strangers' addresses (a sender from anywhere, a local part from a RCPT)
 * anyway. */
#include <string.h>
#include "answer.h"
#include "die.h"
#include "srsfiles.h"

/* 1 if the n bytes hold no NUL and no other control character: nothing a
 * postern-send or a postern-smtpd asks about holds one */
static int printable(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f)
			return 0;
	return 1;
}

static size_t letter(char *ans, char c)
{
	ans[0] = c;
	return 1;
}

static size_t text(char *ans, char c, const char *s, size_t n)
{
	if (n > SRS_ANSWER_MAX - 1)
		n = SRS_ANSWER_MAX - 1;
	ans[0] = c;
	memcpy(ans + 1, s, n);
	return 1 + n;
}

static size_t unavailable(char *ans, const char *keywhy, int *result)
{
	*result = SRS_UNAVAILABLE;
	if (!keywhy)
		keywhy = "no usable key";
	return text(ans, 'Z', keywhy, strlen(keywhy));
}

static size_t sign(const char *rec, size_t n, const struct srs_keys *keys, const char *keywhy, unsigned long day,
                   char *ans, int *result, const char **refusal)
{
	const char *sender = rec + 1, *nul = memchr(rec + 1, 0, n - 1), *domain;
	size_t sn, dn;
	struct str out = STR_INIT;
	size_t len;

	if (!nul) {
		*refusal = "malformed F record: no NUL after the sender";
		return 0;
	}
	sn = (size_t)(nul - sender);
	domain = nul + 1;
	dn = n - 2 - sn;
	if (sn == 0 || sn > SRS_ADDR_MAX || !printable(sender, sn)) {
		*refusal = "malformed F record: not a sender";
		return 0;
	}
	if (dn > 253 || !printable(domain, dn) || !srs_domain_usable(domain, dn)) {
		*refusal = "malformed F record: not a domain name";
		return 0;
	}
	if (!keys)
		return unavailable(ans, keywhy, result);
	*result = srs_forward(&out, sender, sn, domain, dn, keys, day);
	if (*result == SRS_NOMEM)
		die_nomem();
	len = *result == SRS_OK ? text(ans, 'K', out.s, out.len) : letter(ans, 'S');
	str_free(&out);
	return len;
}

static size_t reverse(const char *rec, size_t n, const struct srs_keys *keys, const char *keywhy, unsigned long day,
                      char *ans, int *result, const char **refusal)
{
	static const char codes[] = { [SRS_NOT] = 'N', [SRS_MALFORMED] = 'M', [SRS_BADHASH] = 'B', [SRS_EXPIRED] = 'E' };
	struct str out = STR_INIT;
	size_t len;

	if (n < 2 || n - 1 > SRS_ADDR_MAX || !printable(rec + 1, n - 1)) {
		*refusal = "malformed R record: not a local part";
		return 0;
	}
	if (!keys)
		return unavailable(ans, keywhy, result);
	*result = srs_reverse(&out, rec + 1, n - 1, keys, day);
	if (*result == SRS_NOMEM)
		die_nomem();
	/* what an address stands for is shorter than the address; the
	 * check keeps the answer's bound this file's own */
	if (*result == SRS_OK && out.len > SRS_ANSWER_MAX - 1)
		*result = SRS_MALFORMED;
	len = *result == SRS_OK ? text(ans, 'K', out.s, out.len) : letter(ans, codes[*result]);
	str_free(&out);
	return len;
}

size_t srsd_answer(const char *rec, size_t n, int may_sign, const struct srs_keys *keys, const char *keywhy,
                   unsigned long day, char *ans, enum srsd_kind *kind, int *result, const char **refusal)
{
	if (n == 0) {
		*refusal = "empty record";
		return 0;
	}
	if (rec[0] == 'F') {
		*kind = SRSD_SIGN;
		if (!may_sign) {
			*refusal = "F record from a uid that may not sign";
			return 0;
		}
		return sign(rec, n, keys, keywhy, day, ans, result, refusal);
	}
	if (rec[0] == 'R') {
		*kind = SRSD_REVERSE;
		return reverse(rec, n, keys, keywhy, day, ans, result, refusal);
	}
	*refusal = "unknown record";
	return 0;
}
