/* postern-dkimsign's parts: the exchange with the key holder (ask.c). */
#ifndef POSTERN_DKIMSIGN_H
#define POSTERN_DKIMSIGN_H
#include <stddef.h>
#include "str.h"

#include "qqfilter.h"

/* Exit codes, qmail-queue's where they mean the same (doc/queue.md). */
#define DS_NOMEM QF_NOMEM
#define DS_READ QF_READ
#define DS_CONFIG QF_CONFIG
#define DS_SIGN 74     /* the key holder could not be asked or failed */
#define DS_BUG QF_BUG

#define DS_KEYS_MAX 2  /* one RSA and one Ed25519 key a domain */

#define ds_nomem() die(DS_NOMEM, "fatal: out of memory")

struct ds_key {
	char alg;              /* 'r' rsa-sha256, 'e' ed25519-sha256 */
	struct str selector;
	struct str sig;        /* the signature, once signed */
};

struct ds_answer {
	struct str domain;     /* d=: the From domain or the parent with keys */
	size_t nkeys;
	struct ds_key keys[DS_KEYS_MAX];
};

/* Connects to HOME/run/dkim/socket and asks for the keys of dom: 1 with
 * a filled, 0 when there are none for it or any parent, -1 when the key
 * holder cannot be reached or answers nonsense (why set). */
int ask_keys(const struct str *dom, struct ds_answer *a, const char **why);
/* Has the 32-byte digest signed with a's key k: 0, or -1 (why set). */
int ask_sign(struct ds_key *k, const unsigned char digest[32], const char **why);
void ask_close(void);

/* policy.c: -d domain (the login's: only under those may From be signed) */
void policy_allow(const char *domain);
/* -f address: a From address the login may have signed (one address of
 * control/senderlogins), its domain not otherwise its own */
void policy_allow_address(const char *address);
/* control/dkimdomains' domains; dies DS_CONFIG when it cannot be read */
void policy_load(void);
/* NULL when the From address from (lower case), of domain dom, may be
 * signed and its domain has keys (or a parent has), else why not:
 * "not_a_login_domain", "no_key" */
const char *policy_check(const struct str *dom, const struct str *from);
#endif
