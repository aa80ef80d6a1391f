/* DKIM's signature as text (dkim.h): the domain that signs, from the From
 * field; which fields are signed (h=); the DKIM-Signature field itself.
 * The message's canonical forms are src/lib/dkimcanon.c's. */
#include <string.h>
#include "dkim.h"
#include "ascii.h"
#include "idna.h"
#include "utf8.h"
#include "case.h"
#include "fmt.h"

#define COMMENT_DEPTH 32 /* nested comments; deeper is refused, not signed */
#define LINE_WIDTH 78    /* characters a line of DKIM-Signature, LF aside */
#define B_CHUNK 72       /* characters of b= data a line */

/* Labels separated by single dots, none empty or over 63 bytes, 253 in
 * all; each byte a letter, a digit, '-' or, with underscore, '_'. */
static int labels_ok(const char *s, size_t n, int underscore)
{
	size_t i, label = 0;

	if (n == 0 || n > 253)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];
		if (c == '.') {
			if (label == 0)
				return 0;
			label = 0;
			continue;
		}
		if (!ascii_alnum(c) && c != '-' && !(underscore && c == '_'))
			return 0;
		if (++label > 63)
			return 0;
	}
	return label > 0;
}

int dkim_name_ok(const char *s, size_t n) { return labels_ok(s, n, 1); }

const char *dkim_alg_name(char alg) { return alg == 'r' ? "rsa-sha256" : "ed25519-sha256"; }

/* The From field's value, token by token (RFC 5322 3.2 to 3.4): comments
 * and folding white space between tokens are skipped, and said (gap). */
enum { T_BAD = -1, T_END, T_WORD, T_QUOTED, T_LT, T_GT, T_AT };
struct lex {
	const char *v;
	size_t n, i;
	size_t at, len; /* the last token */
	int gap;        /* white space or a comment before it */
};

/* atext (RFC 5322 3.2.3, with RFC 6532's UTF-8) and '.': a dot-atom, an
 * atom of a phrase (obs-phrase allows the dots), an encoded word. */
static int wordc(char c)
{
	return ascii_alnum(c) || (unsigned char)c >= 0x80 || (c && strchr("!#$%&'*+-/=?^_`{|}~.", c));
}

static int cfws(struct lex *l)
{
	size_t p = l->i, depth = 0;

	while (p < l->n) {
		char c = l->v[p];
		if (depth == 0 && c != '(') {
			if (c != ' ' && c != '\t' && c != '\r' && c != '\n')
				break;
		} else if (c == '(') {
			if (++depth > COMMENT_DEPTH)
				return -1;
		} else if (c == ')') {
			depth--;
		} else if (c == '\\') {
			p++; /* a quoted pair: the next byte is text */
		}
		p++;
	}
	if (depth || p > l->n)
		return -1;
	l->gap = p > l->i;
	l->i = p;
	return 0;
}

static int token(struct lex *l)
{
	size_t p;
	char c;

	if (cfws(l))
		return T_BAD;
	if (l->i == l->n)
		return T_END;
	l->at = p = l->i;
	c = l->v[p];
	if (c == '"') {
		for (p++; p < l->n && l->v[p] != '"'; p++)
			if (l->v[p] == '\\')
				p++;
		if (p >= l->n)
			return T_BAD;
		l->i = p + 1;
		l->len = l->i - l->at;
		return T_QUOTED;
	}
	if (wordc(c)) {
		while (p < l->n && wordc(l->v[p]))
			p++;
		l->i = p;
		l->len = p - l->at;
		return T_WORD;
	}
	l->i = p + 1;
	l->len = 1;
	/* anything else, ',' ':' ';' '[' ']' ')' '\\' or a control, makes a
	 * list, a group, an address literal or no address at all */
	return c == '<' ? T_LT : c == '>' ? T_GT : c == '@' ? T_AT : T_BAD;
}

/* addr-spec, its first token t already read: local-part "@" domain, the
 * local part words with a dot between each two (obs-local-part), the
 * domain one dot-atom; then the token after it, with the domain's place
 * in *dom and *domlen, and, when local is not NULL, the local part's
 * words appended to it as written, quotes kept, without what was between
 * them (comments, folding). */
static int addr_spec(struct lex *l, int t, size_t *dom, size_t *domlen, struct str *local)
{
	int words = 0;
	size_t lastend = 0;

	while (t == T_WORD || t == T_QUOTED) {
		if (words && l->v[lastend - 1] != '.' && l->v[l->at] != '.')
			return T_BAD;
		if (local && !str_catb(local, l->v + l->at, l->len))
			return T_BAD;
		words++;
		lastend = l->at + l->len;
		t = token(l);
	}
	if (!words || t != T_AT || token(l) != T_WORD)
		return T_BAD;
	*dom = l->at;
	*domlen = l->len;
	return token(l);
}

int dkim_from_domain(const struct dkim_field *f, size_t n, struct str *dom)
{
	return dkim_from_address(f, n, dom, 0);
}

int dkim_from_address(const struct dkim_field *f, size_t n, struct str *dom, struct str *addr)
{
	const struct dkim_field *from = 0;
	struct lex l;
	size_t i, start, d = 0, dn = 0;
	int t;

	for (i = 0; i < n; i++)
		if (case_eqb(f[i].name, f[i].namelen, "from", 4)) {
			if (from)
				return -1;
			from = &f[i];
		}
	if (!from || memchr(from->raw, 0, from->rawlen))
		return -1;
	l.v = from->raw;
	l.n = from->rawlen;
	for (l.i = from->namelen; l.i < l.n && (l.v[l.i] == ' ' || l.v[l.i] == '\t'); l.i++)
		;
	if (l.i >= l.n || l.v[l.i] != ':')
		return -1;
	l.i++;

	/* words up to a '<' are a display name; up to an '@', a local part */
	start = l.i;
	t = token(&l);
	while (t == T_WORD || t == T_QUOTED)
		t = token(&l);
	if (addr)
		addr->len = 0;
	if (t == T_LT) {
		if (addr_spec(&l, token(&l), &d, &dn, addr) != T_GT)
			return -1;
		t = token(&l);
	} else if (t == T_AT) {
		l.i = start;
		t = addr_spec(&l, token(&l), &d, &dn, addr);
	} else {
		return -1;
	}
	if (t != T_END)
		return -1;

	if (l.v[d + dn - 1] == '.')
		dn--;
	/* a domain in UTF-8 (RFC 6532) is known to DNS, and named in d=,
	 * by its A-labels (RFC 8616 4, 5) */
	if (utf8_has_high(l.v + d, dn)) {
		if (idna_to_ascii(l.v + d, dn, dom) != IDNA_OK || !labels_ok(dom->s, dom->len, 0))
			return -1;
	} else if (!labels_ok(l.v + d, dn, 0) || !str_copyb(dom, l.v + d, dn))
		return -1;
	dn = dom->len;
	for (i = 0; i < dn; i++)
		dom->s[i] = (char)ascii_tolower(dom->s[i]);
	if (addr) {
		for (i = 0; i < addr->len; i++)
			addr->s[i] = (char)ascii_tolower(addr->s[i]);
		if (!str_catc(addr, '@') || !str_cat(addr, dom) || !str_catz(addr))
			return -1;
		addr->len--;
	}
	return 0;
}

/* The fields signed, in h='s order (dkim.h says why these and how
 * often): the first ONCE RFC 5322 allows once, and are over-signed when
 * present; the first ALWAYS of them even when absent. */
#define N(s) { s, sizeof s - 1 }
static const struct {
	const char *s;
	size_t n;
} names[] = {
	N("from"), N("reply-to"), N("subject"), N("sender"), N("date"), N("to"), N("cc"),
	N("message-id"), N("in-reply-to"), N("references"), N("mime-version"), N("content-type"),
	N("content-transfer-encoding"),
	N("content-id"), N("content-description"), N("resent-date"), N("resent-from"),
	N("resent-sender"), N("resent-to"), N("resent-cc"), N("resent-message-id"), N("list-id"),
	N("list-help"), N("list-unsubscribe"), N("list-subscribe"), N("list-post"), N("list-owner"),
	N("list-archive"),
};
#define ALWAYS 3
#define ONCE 13

static int add_name(struct str *h, size_t k)
{
	return (h->len == 0 || str_catc(h, ':')) && str_catb(h, names[k].s, names[k].n);
}

/* h is made anew; hashed is appended to. */
int dkim_signed_fields(const struct dkim_field *f, size_t n, struct str *h, struct str *hashed)
{
	size_t k, i, seen;

	if (!str_copyb(h, "", 0))
		return -1;
	for (k = 0; k < sizeof names / sizeof names[0]; k++) {
		seen = 0;
		for (i = n; i-- > 0;) /* from the bottom up, as the verifier takes them */
			if (case_eqb(f[i].name, f[i].namelen, names[k].s, names[k].n)) {
				seen++;
				if (!add_name(h, k) || dkim_canon_field(&f[i], hashed))
					return -1;
			}
		if ((seen || k < ALWAYS) && k < ONCE && !add_name(h, k))
			return -1;
	}
	return 0;
}

/* The field being folded: pieces go on the current line while it stays
 * within LINE_WIDTH, else on a new one after LF TAB. */
struct fold {
	struct str *out;
	size_t col;
};

/* a, b and c as one piece, after a space (sep) or nothing; 0 or -1 */
static int piece(struct fold *w, int sep, const char *a, const char *b, size_t bn, const char *c)
{
	size_t an = strlen(a), cn = strlen(c), len = an + bn + cn;

	if (w->col + (size_t)sep + len <= LINE_WIDTH) {
		if (sep && !str_catc(w->out, ' '))
			return -1;
		w->col += (size_t)sep + len;
	} else {
		if (!str_catb(w->out, "\n\t", 2))
			return -1;
		w->col = 1 + len;
	}
	return str_cats(w->out, a) && str_catb(w->out, b, bn) && str_cats(w->out, c) ? 0 : -1;
}

static int tag(struct fold *w, const char *name, const char *value)
{
	return piece(w, 1, name, value, strlen(value), ";");
}

/* out is made anew: it is the field dkim_sig_hashed reads. */
int dkim_sig_head(struct str *out, const char *alg, const char *dom, const char *sel, time_t t,
                  const struct str *h, const char *bh)
{
	struct fold w;
	char num[FMT_ULONG];
	const char *hs = h->s ? h->s : "";
	size_t at = 0;

	num[fmt_ulong(num, t > 0 ? (unsigned long long)t : 0)] = 0;
	w.out = out;
	w.col = 15;
	if (!str_copys(out, "DKIM-Signature:") || tag(&w, "v=", "1") || tag(&w, "a=", alg) ||
	    tag(&w, "c=", "relaxed/relaxed") || tag(&w, "d=", dom) || tag(&w, "s=", sel) || tag(&w, "t=", num))
		return -1;
	/* h=, folded after a colon where it must be */
	do {
		const char *colon = memchr(hs + at, ':', h->len - at);
		size_t end = colon ? (size_t)(colon - hs) : h->len;
		if (piece(&w, at == 0, at == 0 ? "h=" : "", hs + at, end - at, colon ? ":" : ";"))
			return -1;
		at = end + 1;
	} while (at <= h->len);
	if (tag(&w, "bh=", bh))
		return -1;
	/* b= on a line of its own, so that its first 72 characters fit too */
	return str_cats(out, "\n\tb=") ? 0 : -1;
}

int dkim_sig_hashed(const struct str *sig_head, struct str *hashed)
{
	struct dkim_field f;
	const char *colon;

	f.raw = f.name = sig_head->s ? sig_head->s : "";
	f.rawlen = sig_head->len;
	colon = memchr(f.raw, ':', f.rawlen);
	f.namelen = colon ? (size_t)(colon - f.raw) : f.rawlen;
	if (dkim_canon_field(&f, hashed))
		return -1;
	str_truncate(hashed, hashed->len - 2); /* the CRLF */
	return 0;
}

int dkim_sig_finish(struct str *out, const char *b64)
{
	size_t n = strlen(b64), i, k;

	for (i = 0; i < n; i += k) {
		k = n - i < B_CHUNK ? n - i : B_CHUNK;
		if ((i && !str_catb(out, "\n\t", 2)) || !str_catb(out, b64 + i, k))
			return -1;
	}
	return str_catc(out, '\n') ? 0 : -1;
}
