/* postern-dkim's pieces: main.c has the service, doc/dkim.md the control
 * files and the records. */
#ifndef POSTERN_DKIM_HOLDER_H
#define POSTERN_DKIM_HOLDER_H
#include <stddef.h>
#include <sys/types.h>
#include <sodium.h>
#include "../tls/dkimkey.h"
#include "service.h"

#define KEYS_MAX 1000 /* lines of control/dkimdomains */
#define DOMAIN_KEYS 2 /* keys a domain may have: one RSA, one Ed25519 */

/* One line of control/dkimdomains and its key, in the file's order. */
struct key {
	char domain[DKIM_NAME_MAX + 1];
	char selector[DKIM_NAME_MAX + 1];
	struct dkimkey k;     /* 'r': the RSA key; 'e': its seed wiped, the pair in ed */
	unsigned char ed[crypto_sign_ed25519_SECRETKEYBYTES];
	/* the public key apart from the copy inside ed, which signing reads:
	 * a signature is checked against this one before it goes */
	unsigned char edpk[crypto_sign_ed25519_PUBLICKEYBYTES];
	size_t siglen;        /* bytes of one signature */
	unsigned bits;        /* of the modulus; 256 for Ed25519 */
};

/* The keys of the domain a D record names, or of its nearest parent
 * that has any: one or two, one of each algorithm, in the file's order. */
struct found {
	const char *domain; /* the signing domain, d= */
	size_t n;
	const struct key *keys[DOMAIN_KEYS];
};

/* table.c: reads control/dkimdomains and every key it names, logging a
 * line a key; dies 111 with the file and line named for anything wrong.
 * The number of keys (0: the file is absent or has none). */
size_t table_load(void);
/* 1 with *f filled when name (n bytes, a name dkimkey_name_ok takes as
 * a selector would) or a parent of it that still holds a dot has keys;
 * 0 when none has. */
int table_find(const char *name, size_t n, struct found *f);
/* Zeroes every key. */
void table_wipe(void);

/* exchange.c: the record exchange of doc/dkim.md, one state a pending
 * connection of svc's; exchange() is service_serve_pending's serve.
 * refused counts the connections closed for a record (or its absence),
 * not the peers service_accept and service_take refuse. */
struct exchange_counts {
	unsigned long long signatures, none, refused;
};
void exchange_init(struct service *svc, struct exchange_counts *counts);
/* postern-send's uid (bounces and delay warnings) is answered only for
 * the domain of control/me (lower case, n bytes): its D for any other
 * is N.  Without this call no uid is limited. */
void exchange_limit(uid_t uid, const char *domain, size_t n);
int exchange(int conn, int late);
#endif
