/* One argon2id verification per request, whether the user is in the file
 * or not: an unknown name is checked against a dummy hash made at start
 * with the parameters postern-passwd uses, so that it takes as long as a
 * wrong password and the answer's timing does not tell which names exist
 * (doc/pop3.md). */
#include <errno.h>
#include <sodium.h>
#include <string.h>
#include "auth.h"
#include "die.h"

static char dummy[crypto_pwhash_argon2id_STRBYTES];

void verify_init(void)
{
	unsigned char pw[32];

	randombytes_buf(pw, sizeof pw);
	if (crypto_pwhash_argon2id_str(dummy, (const char *)pw, sizeof pw, crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE,
	                               crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE) != 0)
		die(111, "fatal: unable to make the dummy hash: out of memory");
	sodium_memzero(pw, sizeof pw);
}

int verify(const char *hash, const char *password, size_t n)
{
	/* libsodium's prototype reads an array of STRBYTES: ours are shorter */
	char h[crypto_pwhash_argon2id_STRBYTES];
	size_t len = hash ? strlen(hash) : 0;
	int r;

	memset(h, 0, sizeof h);
	if (hash && len < sizeof h)
		memcpy(h, hash, len);
	else
		memcpy(h, dummy, sizeof h);
	errno = 0;
	r = crypto_pwhash_argon2id_str_verify(h, password, n);
	/* a mismatch is EINVAL; anything else (ENOMEM for its 64 MB) is a
	 * failure of the check, not an answer */
	if (r != 0 && errno != EINVAL)
		return -1;
	return r == 0 && hash && len < sizeof h;
}
