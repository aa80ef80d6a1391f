/* postern-dkimverify's parts: the TXT lookups (txt.c), the arithmetic
 * (crypto.c) and the header's rewriting (header.c); main.c reads the
 * message and says what the signatures are worth. */
#ifndef POSTERN_DKIMVERIFY_VERIFY_H
#define POSTERN_DKIMVERIFY_VERIFY_H
#include <stddef.h>
#include "dkimverify.h"
#include "str.h"

#define KEYS_WAIT_MS 10000  /* for all the TXT records of one message */
#define TXT_SLOTS 32        /* questions: DKIMV_SIGS_MAX keys, then DMARC's names, the From domain last */
#define TCP_WAIT_MS 5000    /* for all the answers wanted again over TCP, after the UDP wait */
#define TXT_RECORDS_MAX 16  /* TXT records of one name looked at (a resolver shuffles them) */
#define TXT_TEXT_MAX 4096   /* bytes of one TXT record kept: RSA-4096 takes about 800 */

enum txt_status { TXT_PENDING, TXT_FOUND, TXT_NONE, TXT_FAILED };
struct txt_answer {
	enum txt_status status;  /* TXT_FOUND: at least one TXT record */
	size_t n;
	struct str txt[TXT_RECORDS_MAX]; /* each record's strings joined; longer ones are left out */
	size_t toolong;          /* TXT records over TXT_TEXT_MAX */
	int nxdomain;            /* TXT_NONE because the name does not exist */
};
/* txt.c: asks for name's TXT records as question slot (below
 * TXT_SLOTS); a name no query can be made of is TXT_NONE at once. */
void txt_ask(size_t slot, const char *name);
/* Waits for every question asked, until KEYS_WAIT_MS after the first
 * one; a question no nameserver answered is then TXT_FAILED. */
void txt_wait(void);
const struct txt_answer *txt_answer(size_t slot);

/* policy.c: DMARC, with control/dmarc (doc/dkim.md, "DMARC").  The
 * SPF check postern-smtpd made of MAIL FROM (-s, -f; -H for the null
 * sender's HELO name), result NULL when none was made. */
struct spf_in {
	const char *result, *domain;
	int helo;
};
/* Reads the From domain of the header (f, n fields; readable 0 when
 * dkim_fields refused it) and asks its tree walk's names. */
void policy_begin(const struct dkim_field *f, size_t n, int readable);
/* Appends the spf clause to field (the Authentication-Results field,
 * LF-ended) when spf has a result. */
void policy_spf_clause(struct str *field, const struct spf_in *spf);
/* The verdict on the DKIM results (the d= of each signature that
 * passed) and spf: its dmarc clause appended to field, a log line; 1
 * when the message is to be refused (level 2, a fail under p=reject). */
int policy_finish(const char *const *dkim_pass, size_t npass, const struct spf_in *spf, int level, struct str *field);

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
