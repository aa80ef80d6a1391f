/* postern-dkimverify's parts: the key lookups (keys.c), the arithmetic
 * (crypto.c) and the header's rewriting (header.c); main.c reads the
 * message and says what the signatures are worth. */
#ifndef POSTERN_DKIMVERIFY_VERIFY_H
#define POSTERN_DKIMVERIFY_VERIFY_H
#include <stddef.h>
#include "dkimverify.h"
#include "str.h"

#define KEYS_WAIT_MS 10000  /* for all the key records of one message */
#define KEY_TXT_MAX 4       /* TXT records of one name looked at */
#define KEY_TEXT_MAX 4096   /* bytes of one TXT record kept: RSA-4096 takes about 800 */

enum key_status { KEY_PENDING, KEY_FOUND, KEY_NONE, KEY_FAILED };
struct key_answer {
	enum key_status status;  /* KEY_FOUND: at least one TXT record */
	size_t n;
	struct str txt[KEY_TXT_MAX]; /* each record's strings joined; longer ones are left out */
	size_t toolong;          /* TXT records over KEY_TEXT_MAX */
};
/* Asks for SELECTOR._domainkey.DOMAIN's TXT records as question i (below
 * DKIMV_SIGS_MAX); a name no query can be made of is KEY_NONE at once. */
void keys_ask(size_t i, const char *domain, const char *selector);
/* Waits for every question asked, at most KEYS_WAIT_MS in all; a
 * question no nameserver answered is then KEY_FAILED. */
void keys_wait(void);
const struct key_answer *keys_answer(size_t i);

/* crypto.c: NULL when s's signature is good over hash (the SHA-256 of
 * its header data) with key k, else the reason: "signature did not
 * verify", "key too small", "key too large", "malformed key record". */
const char *crypto_verify(const struct dkimv_sig *s, const struct dkimv_key *k, const unsigned char hash[32]);

/* header.c: the start of msg (len bytes) rewritten: field (the
 * Authentication-Results field), then msg's header lines up to the last
 * Authentication-Results field that names id, without those fields;
 * *replaced is how many bytes of msg out stands for (0 when no field
 * names id: out is field alone); *removed how many fields went. */
void header_rewrite(const char *msg, size_t len, const char *id, const struct str *field, struct str *out,
                    size_t *replaced, size_t *removed);
#endif
