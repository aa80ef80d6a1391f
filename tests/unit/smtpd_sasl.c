/* postern-smtpd's SMTP AUTH decoding (linked from its source): PLAIN and
 * LOGIN, and what each refuses before postern-auth is asked. */
#include <string.h>
#include "check.h"
#include "base64.h"
#include "loginname.h"
#include "postern-smtpd/sasl.c"

static struct sasl s;

/* base64 of n bytes of m into a static buffer */
static const char *enc(const char *m, size_t n)
{
	static char out[4096];
	if (!b64_encode((const unsigned char *)m, n, out, sizeof out))
		return "";
	return out;
}

static int plain(const char *m, size_t n)
{
	const char *e = enc(m, n);
	return sasl_plain(e, strlen(e), &s);
}

static int is(const char *p, size_t n, const char *want)
{
	return n == strlen(want) && !memcmp(p, want, n);
}

int main(void)
{
	size_t resp;
	char big[2048];
	const char *e;

	CHECK(sasl_mechanism("PLAIN", 5, &resp) == SASL_PLAIN && resp == 5, "PLAIN alone: no initial response");
	CHECK(sasl_mechanism("plain dGVzdA==", 14, &resp) == SASL_PLAIN && resp == 6, "plain, any case, with a response");
	CHECK(sasl_mechanism("LoGiN", 5, &resp) == SASL_LOGIN, "LOGIN in any case");
	CHECK(sasl_mechanism("CRAM-MD5", 8, &resp) == SASL_NONE, "CRAM-MD5: not offered");
	CHECK(sasl_mechanism("PLAINX", 6, &resp) == SASL_NONE, "PLAINX is not PLAIN");
	CHECK(sasl_mechanism("", 0, &resp) == SASL_NONE, "no mechanism");

	CHECK(plain("\0alice\0pw", 9) == SASL_OK && is(s.user, s.ulen, "alice") && is(s.pass, s.plen, "pw"),
	      "PLAIN: no authorization identity");
	CHECK(plain("alice\0alice\0pw", 14) == SASL_OK && is(s.user, s.ulen, "alice"),
	      "PLAIN: the authorization identity the user's own");
	CHECK(plain("bob\0alice\0pw", 12) == SASL_CREDS, "PLAIN: another's authorization identity is wrong credentials");
	CHECK(plain("\0alice\0", 7) == SASL_CREDS, "PLAIN: an empty password");
	CHECK(plain("\0\0pw", 4) == SASL_CREDS, "PLAIN: an empty name");
	CHECK(plain("\0../etc\0pw", 10) == SASL_CREDS, "PLAIN: a name that is no login name");
	CHECK(plain("\0Bob@Virt.Example\0pw", 20) == SASL_CREDS, "PLAIN: a virtual name in upper case");
	CHECK(plain("\0bob@virt.example\0pw", 20) == SASL_OK, "PLAIN: a virtual mailbox's name");
	CHECK(plain("\0alice\0p\0w", 10) == SASL_SYNTAX, "PLAIN: three NULs");
	CHECK(plain("alice\0pw", 8) == SASL_SYNTAX, "PLAIN: one NUL");
	CHECK(plain("alice", 5) == SASL_SYNTAX, "PLAIN: none");
	CHECK(sasl_plain("=", 1, &s) == SASL_SYNTAX, "PLAIN: the empty response");
	CHECK(sasl_plain("AGFsaWNlAHB3", 12, &s) == SASL_OK, "PLAIN: canonical base64 without padding");
	CHECK(sasl_plain("AGFsaWNlAHB3=", 13, &s) == SASL_SYNTAX, "PLAIN: a stray pad");
	CHECK(sasl_plain("AGFsaWNl AHB3", 13, &s) == SASL_SYNTAX, "PLAIN: a space inside");
	CHECK(sasl_plain("AGFsaWNlAHB", 11, &s) == SASL_SYNTAX, "PLAIN: a length not a multiple of 4");

	memset(big, 'p', sizeof big);
	big[0] = 0;
	memcpy(big + 1, "alice", 5);
	big[6] = 0;
	CHECK(plain(big, 7 + 1024) == SASL_OK && s.plen == 1024, "PLAIN: a 1,024-byte password");
	CHECK(plain(big, 7 + 1025) == SASL_CREDS, "PLAIN: a 1,025-byte password is wrong credentials");
	e = enc(big, sizeof big);
	CHECK(sasl_plain(e, strlen(e), &s) == SASL_SYNTAX, "PLAIN: a message larger than any that could be right");

	e = enc("alice", 5);
	CHECK(sasl_login_user(e, strlen(e), &s) == SASL_OK && is(s.user, s.ulen, "alice"), "LOGIN: the name");
	e = enc("secret", 6);
	CHECK(sasl_login_pass(e, strlen(e), &s) == SASL_OK && is(s.pass, s.plen, "secret") &&
	      is(s.user, s.ulen, "alice"), "LOGIN: the password, the name kept");
	e = enc("al\0ce", 5);
	CHECK(sasl_login_user(e, strlen(e), &s) == SASL_SYNTAX, "LOGIN: a NUL in the name");
	e = enc("-alice", 6);
	CHECK(sasl_login_user(e, strlen(e), &s) == SASL_CREDS, "LOGIN: a name that is no login name");
	e = enc("alice", 5);
	(void)sasl_login_user(e, strlen(e), &s);
	CHECK(sasl_login_pass("=", 1, &s) == SASL_CREDS, "LOGIN: an empty password");
	(void)sasl_login_user(e, strlen(e), &s);
	e = enc("se\0cret", 7);
	CHECK(sasl_login_pass(e, strlen(e), &s) == SASL_SYNTAX, "LOGIN: a NUL in the password");
	e = enc("alice", 5);
	(void)sasl_login_user(e, strlen(e), &s);
	memset(big, 'p', sizeof big);
	e = enc(big, 1025);
	CHECK(sasl_login_pass(e, strlen(e), &s) == SASL_CREDS, "LOGIN: a 1,025-byte password");
	return check_done();
}
