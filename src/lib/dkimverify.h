/* DKIM verification (RFC 6376, RFC 8463, RFC 8301) without the
 * cryptography or the DNS: the text of a DKIM-Signature field and of a
 * key record read as hostile input, the bytes a signature was made over,
 * and the Authentication-Results field (RFC 8601) that reports the
 * results.  postern-dkimverify (doc/dkim.md, "Verifying") does the
 * lookups and the arithmetic; everything here is pure, for the unit test
 * and the fuzz target.
 *
 * Messages are as the queue holds them: LF line ends, a CR just before
 * an LF part of the line end (dkim.h, dkimcanon.c).  A "reason" is a
 * static string of lower-case words and spaces, fit to stand in quotes
 * in a reason= of the Authentication-Results field. */
#ifndef POSTERN_DKIMVERIFY_H
#define POSTERN_DKIMVERIFY_H
#include <stddef.h>
#include "dkim.h"
#include "str.h"

#define DKIMV_SIGS_MAX 8        /* DKIM-Signature fields checked; later ones are left */
#define DKIMV_SIG_BYTES 1024    /* the longest signature taken: RSA of 8192 bits */
#define DKIMV_KEY_BYTES 1300    /* the longest decoded p= taken: SPKI of RSA 8192 */
#define DKIMV_RSA_MIN_BITS 1024 /* RFC 8301 3.2: shorter keys are not valid */
#define DKIMV_RSA_MAX_BITS 4096 /* what BearSSL's RSA verifies */
#define DKIMV_NAME_MAX 253
#define DKIMV_BPREFIX_MAX 64    /* characters of b= kept to tell signatures apart */

enum dkimv_canon { DKIMV_SIMPLE, DKIMV_RELAXED };
enum dkimv_alg { DKIMV_RSA_SHA256, DKIMV_ED25519_SHA256 };

/* One DKIM-Signature field, read.  Tags (RFC 6376 3.5): v=1 (required),
 * a= rsa-sha256 or ed25519-sha256 (rsa-sha1 is "unsupported algorithm",
 * RFC 8301), b= and bh= base64 with FWS anywhere in it, c= (default
 * simple/simple; "relaxed" alone is relaxed/simple), d= and s= names DKIM
 * can use (dkim_name_ok; kept in lower case), h= field names with FWS
 * around the colons (at most 2048 of them), which must include from,
 * i= (optional: local part optional, '@', a domain equal to d= or under
 * it, case-insensitive; FWS in it dropped), l= (decimal, at most 76
 * digits; a number over 2^64-1 reads as 2^64-1, longer than any body,
 * so that the signature fails "body shorter than l="), q= (must include
 * dns/txt when present), t= and x= (decimal, at most 12 digits; x= must
 * not be below t=).  Unknown tags are ignored;
 * a tag twice, a tag name not ALPHA *(ALPHA / DIGIT / "_"), a missing
 * '=' or required tag, a byte in a value neither VALCHAR nor FWS, more
 * than 64 tags, or a value not of its tag's form is an error.  Tag names
 * are case-sensitive (RFC 6376 3.2), the words of a=, c= and q= not. */
struct dkimv_sig {
	enum dkimv_alg alg;
	enum dkimv_canon hcanon, bcanon;
	char d[DKIMV_NAME_MAX + 1];
	char s[DKIMV_NAME_MAX + 1];
	char i[DKIMV_NAME_MAX * 2 + 2];  /* i= as written (empty when absent); longer i= is an error */
	char bprefix[DKIMV_BPREFIX_MAX + 1]; /* the first base64 characters of b=, for header.b (RFC 6008) */
	size_t bshow;                    /* how many of them header.b shows: 8, or more (dkimv_bshow) */
	unsigned char bh[32];            /* bh= decoded: must be 32 bytes */
	unsigned char b[DKIMV_SIG_BYTES];
	size_t blen;
	struct str h;                    /* h= names, lower case, each followed by a NUL */
	size_t nh;
	int has_l, has_t, has_x;
	unsigned long long l, t, x;
	/* where b='s value lies in the field's raw text (dkim_field.raw),
	 * for the copy of the field hashed with b= empty (RFC 6376 3.7) */
	size_t b_start, b_end;
};

/* Reads f (a field named DKIM-Signature, any case) into *s.  NULL, or
 * why not: "malformed signature", "unsupported version", "unsupported
 * algorithm", "unsupported canonicalization", "unsupported query method",
 * "from not signed", "i= not in d=", "signature too long", "expiry before
 * timestamp", "out of memory".  The form of every tag is checked before
 * what it asks for: after any reason but "malformed signature" and
 * "unsupported version", d, s, i and bprefix are set (the signature can
 * be named in the results), and alg too unless it is the reason.
 * s->h is str_init'ed here and must be freed with dkimv_sig_free
 * whatever the result. */
const char *dkimv_sig_parse(const struct dkim_field *f, struct dkimv_sig *s);
void dkimv_sig_free(struct dkimv_sig *s);

/* Appends to out the header data of s (RFC 6376 3.7, 5.4.2): for each
 * name of h=, in order, the last instance of that name among f[0..n-1]
 * not yet taken (none left: nothing), canonicalized by s->hcanon; then
 * f[sig] (the signature field itself) with b='s value removed, by the
 * same canonicalization, without its final CRLF.  simple: the field's
 * raw bytes as they are, each LF (a continuation, with a CR just before
 * it) as CRLF, then CRLF; relaxed: dkim_canon_field.  0, or -1 out of
 * memory (or a sig whose b_start and b_end do not fit f[sig]). */
int dkimv_header_data(const struct dkim_field *f, size_t n, size_t sig, const struct dkimv_sig *s, struct str *out);

/* The body canonicalization of s, fed in pieces of any size, its output
 * cut at l= when s has one (RFC 6376 3.4.3, 3.4.4, 3.4.5).  simple: each
 * LF (with a CR just before it) is CRLF, other bytes as they are, empty
 * lines at the end dropped, an empty body is one CRLF, a last line
 * without LF gets CRLF (a CR at the very end, as in dkim_body, belongs
 * to the line end).  relaxed: dkim_body.  dkimv_body_end returns
 * the length of the whole canonical body (before any cut), so that the
 * caller can see an l= longer than the body.  b must stay where it was
 * initialized (its relaxed part points to it). */
struct dkimv_body {
	enum dkimv_canon canon;
	struct dkim_body relaxed;
	void (*out)(void *ctx, const char *b, size_t n);
	void *ctx;
	int has_l;
	unsigned long long l, total;
	unsigned long long pending_crlf; /* simple: empty lines held back */
	int pending_cr;                  /* simple: a CR that may belong to a line end */
	int line_open;                   /* simple: the current line has bytes */
};
void dkimv_body_init(struct dkimv_body *b, const struct dkimv_sig *s,
                     void (*out)(void *ctx, const char *b, size_t n), void *ctx);
void dkimv_body_put(struct dkimv_body *b, const char *p, size_t n);
unsigned long long dkimv_body_end(struct dkimv_body *b);

/* A key record (RFC 6376 3.6.1, RFC 8463): the TXT record's strings
 * joined.  Tags: v= (when present, DKIM1 and the first tag), h=
 * (when present, must include sha256), k= (rsa, the default, or
 * ed25519), n= ignored, p= base64 with FWS (empty: revoked), s= (when
 * present, must include email or *), t= (flags y and s, others
 * ignored).  Tag names are case-sensitive, DKIM1 too; the other words
 * not.  An Ed25519 p= must be 32 bytes (RFC 8463: the raw key). */
struct dkimv_key {
	enum dkimv_alg alg;           /* what k= says the key is for */
	unsigned char p[DKIMV_KEY_BYTES];
	size_t plen;                  /* 0: revoked */
	int testing;                  /* t=y */
	int strict;                   /* t=s: i='s domain must be d= itself */
};
/* NULL, or why not: "malformed key record" (v= not first, no p=, a
 * tag-list as dkimv_sig_parse refuses one), "unsupported key version",
 * "key not for sha256", "unsupported key type", "key not for email",
 * "key too long". */
const char *dkimv_key_parse(const char *txt, size_t n, struct dkimv_key *k);

/* Whether key k may check signature s: NULL, or "key for another
 * algorithm", "key revoked", "i= not d= under strict key". */
const char *dkimv_key_fits(const struct dkimv_key *k, const struct dkimv_sig *s);

/* The RSA public key in a k=rsa p= (a DER SubjectPublicKeyInfo of
 * rsaEncryption, or, as some publish, a bare PKCS #1 RSAPublicKey): 0
 * with *mod and *exp pointing into p, without leading zero bytes; -1 when
 * it is neither, or has bytes after it.  The DER is read strictly
 * (definite lengths, minimal length octets not required, every length
 * inside its parent). */
int dkimv_rsa_key(const unsigned char *p, size_t plen, const unsigned char **mod, size_t *modlen,
                  const unsigned char **exp, size_t *explen);

/* header.b of each of the n signatures long enough (8 characters at
 * least, RFC 6008) that no two that differ look alike: a signature
 * copied into a failing one beside a good one must not read as the good
 * one's.  sigs[i] may be NULL. */
void dkimv_bshow(struct dkimv_sig *const *sigs, size_t n);

/* One result for the Authentication-Results field. */
struct dkimv_result {
	const char *result;              /* pass, fail, neutral, temperror, permerror, none */
	const char *reason;              /* NULL, or a reason (above) */
	const struct dkimv_sig *sig;     /* NULL for none, or a signature too broken to name
	                                  * ("malformed signature", "unsupported version") */
	const char *comment;             /* NULL, or a few words put in parentheses: "test mode" */
};
/* The field, LF-ended, appended to out: "Authentication-Results: ID;"
 * then each result on a line of its own, LF TAB before it, ';' between:
 * "dkim=RESULT" [" (COMMENT)"] [" reason=\"REASON\""] then, with a
 * signature, " header.d=D header.i=I header.s=S header.a=ALG
 * header.b=B" (header.i only when i= was given; an i= that is no
 * dot-atom or quoted string is left out; header.a left out when the
 * reason is "unsupported algorithm", an a= that is none of ALG's; B in
 * double quotes when it holds a '/' or '=', which a token may not, RFC
 * 2045 5.1).  A line that would pass 998 characters (RFC 5322 2.1.1:
 * long d=, i= and s=) is folded with LF TAB before the property that
 * would pass them.  n == 0 writes "dkim=none".  0, or -1 out of
 * memory. */
int dkimv_ar_field(struct str *out, const char *authserv_id, const struct dkimv_result *r, size_t n);
#endif
