/* DKIM verification without the cryptography or the DNS (dkimverify.h):
 * the DKIM-Signature field and the key record read as hostile text, the
 * header data and the simple body a signature covers (RFC 6376 3.4,
 * 3.7), the RSA key's DER, the Authentication-Results field (RFC 8601).
 *
 * Both the field and the key record are tag lists (RFC 6376 3.2), read
 * by one reader, strictly: a list a careful signer would not write is
 * refused whole, rather than half understood.  Line ends are as in
 * dkimcanon.c: a field's raw text has LF, or CR LF, at its continuations,
 * and either counts as the line end of folding white space. */
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include "dkimverify.h"
#include "taglist.h"
#include "authres.h"
#include "ascii.h"
#include "base64.h"
#include "case.h"
#include "fmt.h"

#define TAGS_MAX 64     /* tags in a list: RFC 6376 has 14, room for more, and a bound on the duplicate check */
#define H_MAX 2048      /* names in h=: dkimv_header_data's work is names times fields */
#define AR_LINE_MAX 998 /* RFC 5322 2.1.1 */
/* base64 characters of the longest b= and p= taken, and one group over,
 * so that a longer one is seen as too long, not as malformed */
#define B_CHARS ((DKIMV_SIG_BYTES + 2) / 3 * 4)
#define P_CHARS ((DKIMV_KEY_BYTES + 2) / 3 * 4)

static const char MALFORMED[] = "malformed signature";
static const char BADKEY[] = "malformed key record";
static const char NOMEM[] = "out of memory";

static int is(const char *p, size_t n, const char *s) { return case_eqb(p, n, s, strlen(s)); }
static size_t skip_fws(const char *v, size_t n, size_t i) { return tag_skip(v, n, i, tag_fws); }

/* The tag list v (RFC 6376 3.2, with errata 5070: a value may be empty):
 * 0 with t[0..*nt) set; -1 when it is empty, has a tag-spec that is not
 * one (tag_spec), a name twice, or more than max tags.  A ';' may end the
 * list, with FWS after it. */
static int tag_list(const char *v, size_t n, struct tag *t, size_t max, size_t *nt)
{
	size_t i = skip_fws(v, n, 0), k = 0, j;

	while (i < n) {
		if (k == max || tag_spec(v, n, &i, &t[k], tag_fws))
			return -1;
		for (j = 0; j < k; j++) /* tag names are case-sensitive (3.2) */
			if (t[j].namelen == t[k].namelen && memcmp(v + t[j].name, v + t[k].name, t[k].namelen) == 0)
				return -1;
		k++;
		if (i < n)
			i = skip_fws(v, n, i + 1);
	}
	*nt = k;
	return k ? 0 : -1;
}

/* The tags of names (in that order) found among t, into found. */
static void known(const char *v, const struct tag *t, size_t nt, const char *const *names, size_t nn,
                  const struct tag **found)
{
	size_t i, j;

	for (j = 0; j < nn; j++) {
		found[j] = 0;
		for (i = 0; i < nt; i++)
			if (t[i].namelen == strlen(names[j]) && memcmp(v + t[i].name, names[j], t[i].namelen) == 0)
				found[j] = &t[i];
	}
}

/* The next element of a colon-separated list (h=, q=, and the key's h=,
 * s=, t=) at v[*i], v a value without FWS at its ends: FWS may stand
 * around the colons, not inside an element; no element may be empty.
 * 0 with *e, *elen set and *i past the colon (n after the last); -1. */
static int list_next(const char *v, size_t n, size_t *i, const char **e, size_t *elen)
{
	size_t p = skip_fws(v, n, *i), start = p;

	while (p < n && tag_valchar(v[p]) && v[p] != ':')
		p++;
	if (p == start)
		return -1;
	*e = v + start;
	*elen = p - start;
	p = skip_fws(v, n, p);
	if (p < n && (v[p] != ':' || ++p == n))
		return -1; /* something else after the element, or a colon last */
	*i = p;
	return 0;
}

/* Whether a list is well formed (and not empty), and whether it has
 * either of two elements (ASCII case-insensitively; b may be NULL). */
static int list_has(const char *v, size_t n, const char *a, const char *b, int *has)
{
	const char *e;
	size_t i = 0, elen;

	*has = 0;
	if (n == 0)
		return -1;
	while (i < n) {
		if (list_next(v, n, &i, &e, &elen))
			return -1;
		if (is(e, elen, a) || (b && is(e, elen, b)))
			*has = 1;
	}
	return 0;
}

/* The base64 of v with its FWS dropped, into buf: the count of its
 * characters (beyond size not stored), or B64_BAD for a byte that is
 * neither base64 nor FWS. */
#define B64_BAD ((size_t)-1)
static size_t strip_b64(const char *v, size_t n, char *buf, size_t size)
{
	size_t i = 0, o = 0, w;

	while (i < n) {
		char c = v[i];
		if ((w = tag_fws(v, n, i)) > 0) {
			i += w;
			continue;
		}
		if (!ascii_alpha(c) && !ascii_digit(c) && c != '+' && c != '/' && c != '=')
			return B64_BAD;
		if (o < size)
			buf[o] = c;
		o++;
		i++;
	}
	return o;
}

/* A d= or s= into out (DKIMV_NAME_MAX + 1 bytes), lower case: 0, or -1
 * when it is not a name DKIM can use. */
static int name_value(const char *v, size_t n, char *out)
{
	size_t i;

	if (!dkim_name_ok(v, n))
		return -1;
	for (i = 0; i < n; i++)
		out[i] = (char)ascii_tolower(v[i]);
	out[n] = 0;
	return 0;
}

/* l=: up to 76 digits (RFC 6376 3.5), a value over 2^64-1 saturating
 * there: no body is that long, so such a signature fails as one whose
 * l= is longer than its body. */
static int length_value(const char *v, size_t n, unsigned long long *u)
{
	unsigned long long r = 0;
	size_t i;

	if (n == 0 || n > 76)
		return -1;
	for (i = 0; i < n; i++) {
		unsigned d;
		if (!ascii_digit(v[i]))
			return -1;
		d = (unsigned)(v[i] - '0');
		r = r > (ULLONG_MAX - d) / 10 ? ULLONG_MAX : r * 10 + d;
	}
	*u = r;
	return 0;
}

/* t= and x=: up to 12 digits (RFC 6376 3.5), enough until the year 33658 */
static int time_value(const char *v, size_t n, unsigned long long *u)
{
	return n <= 12 && scan_ulong_all(v, n, u) ? 0 : -1;
}

static int canon_value(const char *v, size_t n, enum dkimv_canon *c)
{
	if (is(v, n, "simple"))
		*c = DKIMV_SIMPLE;
	else if (is(v, n, "relaxed"))
		*c = DKIMV_RELAXED;
	else
		return -1;
	return 0;
}

/* the domain of an i= (already of the form checked by the parse) */
static const char *i_domain(const char *i) { return strrchr(i, '@') + 1; }

enum { S_V, S_A, S_B, S_BH, S_C, S_D, S_H, S_I, S_L, S_Q, S_S, S_T, S_X, S_N };
static const char *const sig_names[S_N] = { "v", "a", "b", "bh", "c", "d", "h", "i", "l", "q", "s", "t", "x" };

/* The checks go from the form of the whole to what the tags say: a
 * signature "malformed" has nothing in s worth reporting; past that, d=,
 * s=, i= and bprefix are set, to name the signature in the results. */
const char *dkimv_sig_parse(const struct dkim_field *f, struct dkimv_sig *s)
{
	struct tag t[TAGS_MAX];
	const struct tag *k[S_N];
	char b64[B_CHARS];
	unsigned char sig[B_CHARS / 4 * 3];
	unsigned char bh[88 / 4 * 3];
	const char *v, *e;
	size_t n, at, nt, i, len, elen, bchars;
	int has;

	memset(s, 0, sizeof *s);
	/* the value: after the name, any blanks (obs-optional) and the colon */
	for (at = f->namelen; at < f->rawlen && ascii_wsp(f->raw[at]); at++)
		;
	if (at >= f->rawlen || f->raw[at] != ':')
		return MALFORMED;
	v = f->raw + ++at;
	n = f->rawlen - at;
	if (tag_list(v, n, t, TAGS_MAX, &nt))
		return MALFORMED;
	known(v, t, nt, sig_names, S_N, k);
	/* another version may mean other tags: nothing else is read */
	if (!k[S_V])
		return MALFORMED;
	if (!is(v + k[S_V]->val, k[S_V]->vallen, "1"))
		return "unsupported version";
	if (!k[S_A] || !k[S_B] || !k[S_BH] || !k[S_D] || !k[S_H] || !k[S_S])
		return MALFORMED;

	if (name_value(v + k[S_D]->val, k[S_D]->vallen, s->d) || name_value(v + k[S_S]->val, k[S_S]->vallen, s->s))
		return MALFORMED;

	bchars = strip_b64(v + k[S_B]->val, k[S_B]->vallen, b64, B_CHARS);
	if (bchars == B64_BAD || bchars == 0)
		return MALFORMED;
	len = bchars < DKIMV_BPREFIX_MAX ? bchars : DKIMV_BPREFIX_MAX;
	memcpy(s->bprefix, b64, len);
	s->bprefix[len] = 0;
	s->bshow = len < 8 ? len : 8;
	if (bchars <= B_CHARS) {
		if (b64_decode(b64, bchars, sig, sizeof sig, &s->blen))
			return MALFORMED;
		if (s->blen <= DKIMV_SIG_BYTES)
			memcpy(s->b, sig, s->blen);
	}
	s->b_start = at + k[S_B]->start;
	s->b_end = at + k[S_B]->end;

	/* any digest's length here (rsa-sha1's is 20 bytes): whether it is
	 * SHA-256's is asked once a= is known to be supported */
	len = strip_b64(v + k[S_BH]->val, k[S_BH]->vallen, b64, 88);
	if (len == B64_BAD || len == 0 || len > 88 || b64_decode(b64, len, bh, sizeof bh, &elen))
		return MALFORMED;
	if (elen == sizeof s->bh)
		memcpy(s->bh, bh, sizeof s->bh);

	{
		const char *hv = v + k[S_H]->val, *name;
		size_t hn = k[S_H]->vallen;
		for (at = 0; at < hn;) {
			if (s->nh == H_MAX || list_next(hv, hn, &at, &name, &len))
				return MALFORMED;
			if (!str_readyplus(&s->h, len + 1))
				return NOMEM;
			for (i = 0; i < len; i++)
				s->h.s[s->h.len++] = (char)ascii_tolower(name[i]);
			s->h.s[s->h.len++] = 0;
			s->nh++;
		}
		if (s->nh == 0)
			return MALFORMED;
	}

	if (k[S_I]) {
		/* FWS in i= is dropped (dkim-quoted-printable, 2.11) */
		e = v + k[S_I]->val;
		n = k[S_I]->vallen;
		for (i = 0, len = 0; i < n; i++) {
			if (ascii_wsp(e[i]) || e[i] == '\r' || e[i] == '\n')
				continue;
			if (len == sizeof s->i - 1)
				return MALFORMED;
			s->i[len++] = e[i];
		}
		s->i[len] = 0;
		e = strrchr(s->i, '@');
		if (!e || !dkim_name_ok(e + 1, strlen(e + 1)))
			return MALFORMED;
	}
	if (k[S_L]) {
		if (length_value(v + k[S_L]->val, k[S_L]->vallen, &s->l))
			return MALFORMED;
		s->has_l = 1;
	}
	if (k[S_T]) {
		if (time_value(v + k[S_T]->val, k[S_T]->vallen, &s->t))
			return MALFORMED;
		s->has_t = 1;
	}
	if (k[S_X]) {
		if (time_value(v + k[S_X]->val, k[S_X]->vallen, &s->x))
			return MALFORMED;
		s->has_x = 1;
	}
	if (k[S_Q] && list_has(v + k[S_Q]->val, k[S_Q]->vallen, "dns/txt", 0, &has))
		return MALFORMED;

	/* well formed: now what it asks of us */
	if (is(v + k[S_A]->val, k[S_A]->vallen, "rsa-sha256"))
		s->alg = DKIMV_RSA_SHA256;
	else if (is(v + k[S_A]->val, k[S_A]->vallen, "ed25519-sha256"))
		s->alg = DKIMV_ED25519_SHA256;
	else
		return "unsupported algorithm"; /* rsa-sha1 too: RFC 8301 3.1 */
	if (elen != sizeof s->bh)
		return MALFORMED;
	s->hcanon = s->bcanon = DKIMV_SIMPLE;
	if (k[S_C]) {
		const char *c = v + k[S_C]->val, *slash = memchr(c, '/', k[S_C]->vallen);
		size_t hn = slash ? (size_t)(slash - c) : k[S_C]->vallen;
		if (canon_value(c, hn, &s->hcanon) ||
		    (slash && canon_value(slash + 1, k[S_C]->vallen - hn - 1, &s->bcanon)))
			return "unsupported canonicalization";
	}
	if (k[S_Q] && !has)
		return "unsupported query method";
	if (bchars > B_CHARS || s->blen > DKIMV_SIG_BYTES) {
		s->blen = 0;
		return "signature too long";
	}
	for (at = 0; at < s->h.len && strcmp(s->h.s + at, "from") != 0; at += strlen(s->h.s + at) + 1)
		;
	if (at == s->h.len)
		return "from not signed";
	if (s->i[0]) {
		const char *d = i_domain(s->i);
		size_t dn = strlen(d), sn = strlen(s->d);
		/* d= itself, or a name under it: a whole label more */
		if (!(case_eqb(d, dn, s->d, sn) || (dn > sn + 1 && d[dn - sn - 1] == '.' && case_eqn(d + dn - sn, s->d, sn))))
			return "i= not in d=";
	}
	if (s->has_t && s->has_x && s->x < s->t)
		return "expiry before timestamp";
	return 0;
}

void dkimv_sig_free(struct dkimv_sig *s) { str_free(&s->h); }

/* The simple form of a field (RFC 6376 3.4.1): its bytes, each line end
 * inside it CRLF; a CR before an LF is that line end's, not doubled. */
static int simple_field(const char *raw, size_t n, struct str *out)
{
	size_t i, from = 0;

	for (i = 0; i < n; i++)
		if (raw[i] == '\n') {
			size_t end = i > 0 && raw[i - 1] == '\r' ? i - 1 : i;
			if (!str_catb(out, raw + from, end - from) || !str_catb(out, "\r\n", 2))
				return -1;
			from = i + 1;
		}
	return str_catb(out, raw + from, n - from) ? 0 : -1;
}

/* f in the header canonicalization c, CRLF-ended */
static int canon_field(enum dkimv_canon c, const struct dkim_field *f, struct str *out)
{
	if (c == DKIMV_RELAXED)
		return dkim_canon_field(f, out);
	return simple_field(f->raw, f->rawlen, out) || !str_catb(out, "\r\n", 2) ? -1 : 0;
}

int dkimv_header_data(const struct dkim_field *f, size_t n, size_t sig, const struct dkimv_sig *s, struct str *out)
{
	struct str taken = STR_INIT, copy = STR_INIT;
	struct dkim_field x;
	size_t k, i, at = 0, len;
	int r = -1;

	/* a signature read from another field, or none, is a caller's bug:
	 * refused rather than read out of bounds */
	if (sig >= n || s->b_start <= f[sig].namelen || s->b_start > s->b_end || s->b_end > f[sig].rawlen ||
	    (s->nh > 0 && !s->h.s) || !str_ready(&taken, n))
		goto done;
	memset(taken.s, 0, n);
	for (k = 0; k < s->nh; k++, at += len + 1) {
		const char *name = s->h.s + at;
		len = strlen(name);
		/* bottom up (5.4.2): the last instance not yet taken */
		for (i = n; i > 0; i--)
			if (!taken.s[i - 1] && case_eqb(f[i - 1].name, f[i - 1].namelen, name, len))
				break;
		if (i == 0)
			continue; /* none left: the name adds nothing (over-signing) */
		taken.s[i - 1] = 1;
		if (canon_field(s->hcanon, &f[i - 1], out))
			goto done;
	}
	/* the signature field, its b= value (and the FWS around it) gone,
	 * unterminated (3.7) */
	x = f[sig];
	if (!str_copyb(&copy, x.raw, s->b_start) || !str_catb(&copy, x.raw + s->b_end, x.rawlen - s->b_end))
		goto done;
	x.name = x.raw = copy.s;
	x.rawlen = copy.len;
	if (canon_field(s->hcanon, &x, out))
		goto done;
	str_truncate(out, out->len - 2);
	r = 0;
done:
	str_free(&taken);
	str_free(&copy);
	return r;
}

/* The canonical body's bytes on their way out: counted, and cut at l=. */
static void emit(struct dkimv_body *b, const char *p, size_t n)
{
	unsigned long long before = b->total;

	b->total = n > ULLONG_MAX - before ? ULLONG_MAX : before + n;
	if (b->has_l) {
		if (before >= b->l)
			return;
		if (n > b->l - before)
			n = (size_t)(b->l - before);
	}
	if (n)
		b->out(b->ctx, p, n);
}

static void relaxed_out(void *ctx, const char *p, size_t n) { emit(ctx, p, n); }

void dkimv_body_init(struct dkimv_body *b, const struct dkimv_sig *s,
                     void (*out)(void *ctx, const char *b, size_t n), void *ctx)
{
	b->canon = s->bcanon;
	b->out = out;
	b->ctx = ctx;
	b->has_l = s->has_l;
	b->l = s->l;
	b->total = 0;
	b->pending_crlf = 0;
	b->pending_cr = 0;
	b->line_open = 0;
	dkim_body_init(&b->relaxed, relaxed_out, b);
}

/* A byte of text follows: the empty lines held back were not the last. */
static void open_line(struct dkimv_body *b)
{
	static const char crlfs[] = "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n";

	if (b->line_open)
		return;
	while (b->pending_crlf) {
		size_t k = b->pending_crlf < 16 ? (size_t)b->pending_crlf : 16;
		emit(b, crlfs, 2 * k);
		b->pending_crlf -= k;
	}
	b->line_open = 1;
}

/* A CR held back was text after all: it is not just before an LF. */
static void held_cr(struct dkimv_body *b)
{
	if (b->pending_cr) {
		open_line(b);
		emit(b, "\r", 1);
		b->pending_cr = 0;
	}
}

void dkimv_body_put(struct dkimv_body *b, const char *p, size_t n)
{
	size_t i = 0, j;

	if (b->canon == DKIMV_RELAXED) {
		dkim_body_put(&b->relaxed, p, n);
		return;
	}
	while (i < n) {
		if (p[i] == '\n') {
			if (b->line_open)
				emit(b, "\r\n", 2);
			else
				b->pending_crlf++;
			b->line_open = 0;
			b->pending_cr = 0; /* the CR of CR LF */
			i++;
		} else if (p[i] == '\r') {
			held_cr(b);
			b->pending_cr = 1;
			i++;
		} else {
			held_cr(b);
			for (j = i + 1; j < n && p[j] != '\n' && p[j] != '\r'; j++)
				;
			open_line(b);
			emit(b, p + i, j - i);
			i = j;
		}
	}
}

unsigned long long dkimv_body_end(struct dkimv_body *b)
{
	if (b->canon == DKIMV_RELAXED) {
		dkim_body_end(&b->relaxed);
	} else {
		/* a CR at the very end is the line end the last line lacks, as
		 * postern-remote sends it; the empty lines at the end go, and a
		 * body left empty is one CRLF (3.4.3) */
		if (b->line_open)
			emit(b, "\r\n", 2);
		if (b->total == 0)
			emit(b, "\r\n", 2);
		b->pending_crlf = 0;
		b->pending_cr = 0;
		b->line_open = 0;
	}
	return b->total;
}

enum { K_V, K_H, K_K, K_P, K_S, K_T, K_N };
static const char *const key_names[K_N] = { "v", "h", "k", "p", "s", "t" };

const char *dkimv_key_parse(const char *txt, size_t n, struct dkimv_key *k)
{
	struct tag t[TAGS_MAX];
	const struct tag *g[K_N];
	char b64[P_CHARS];
	unsigned char key[P_CHARS / 4 * 3];
	size_t nt, pchars, len = 0;
	int sha256 = 1, email = 1;

	memset(k, 0, sizeof *k);
	k->alg = DKIMV_RSA_SHA256;
	if (tag_list(txt, n, t, TAGS_MAX, &nt))
		return BADKEY;
	known(txt, t, nt, key_names, K_N, g);
	if (g[K_V]) {
		if (g[K_V] != &t[0])
			return BADKEY;
		/* %x44.4B.49.4D.31 in 3.6.1's grammar: case-sensitive */
		if (g[K_V]->vallen != 5 || memcmp(txt + g[K_V]->val, "DKIM1", 5) != 0)
			return "unsupported key version";
	}
	if (!g[K_P])
		return BADKEY;
	pchars = strip_b64(txt + g[K_P]->val, g[K_P]->vallen, b64, P_CHARS);
	if (pchars == B64_BAD || (pchars <= P_CHARS && b64_decode(b64, pchars, key, sizeof key, &len)))
		return BADKEY;
	if ((g[K_H] && list_has(txt + g[K_H]->val, g[K_H]->vallen, "sha256", 0, &sha256)) ||
	    (g[K_S] && list_has(txt + g[K_S]->val, g[K_S]->vallen, "email", "*", &email)))
		return BADKEY;
	if (g[K_T]) {
		const char *v = txt + g[K_T]->val, *e;
		size_t at = 0, elen;
		if (g[K_T]->vallen == 0)
			return BADKEY;
		while (at < g[K_T]->vallen) {
			if (list_next(v, g[K_T]->vallen, &at, &e, &elen))
				return BADKEY;
			if (is(e, elen, "y"))
				k->testing = 1;
			else if (is(e, elen, "s"))
				k->strict = 1;
		}
	}
	if (g[K_K]) {
		const char *v = txt + g[K_K]->val;
		if (is(v, g[K_K]->vallen, "ed25519"))
			k->alg = DKIMV_ED25519_SHA256;
		else if (!is(v, g[K_K]->vallen, "rsa"))
			return "unsupported key type";
	}
	if (!sha256)
		return "key not for sha256";
	if (!email)
		return "key not for email";
	if (pchars > P_CHARS || len > DKIMV_KEY_BYTES)
		return "key too long";
	/* RFC 8463: an Ed25519 p= is the public key itself, 32 bytes */
	if (k->alg == DKIMV_ED25519_SHA256 && len != 0 && len != 32)
		return BADKEY;
	memcpy(k->p, key, len);
	k->plen = len;
	return 0;
}

const char *dkimv_key_fits(const struct dkimv_key *k, const struct dkimv_sig *s)
{
	if (k->plen == 0)
		return "key revoked";
	if (k->alg != s->alg)
		return "key for another algorithm";
	if (k->strict && s->i[0]) {
		const char *d = i_domain(s->i);
		if (!case_eqb(d, strlen(d), s->d, strlen(s->d)))
			return "i= not d= under strict key";
	}
	return 0;
}

/* One DER element with tag tag at p[*i], inside p[0..n): 0 with its
 * contents in *c and *clen and *i past it; -1 for another tag, an
 * indefinite length, or a length beyond n. */
static int der(const unsigned char *p, size_t n, size_t *i, unsigned char tag, const unsigned char **c, size_t *clen)
{
	size_t at = *i, len, k, nb;

	if (at > n || n - at < 2 || p[at] != tag)
		return -1;
	len = p[at + 1];
	at += 2;
	if (len & 0x80) {
		nb = len & 0x7f;
		if (nb == 0 || nb > n - at)
			return -1;
		for (len = 0, k = 0; k < nb; k++) {
			if (len > SIZE_MAX >> 8)
				return -1;
			len = len << 8 | p[at++];
		}
	}
	if (len > n - at)
		return -1;
	*c = p + at;
	*clen = len;
	*i = at + len;
	return 0;
}

/* An INTEGER that must be positive: its value without leading zeros. */
static int der_uint(const unsigned char *p, size_t n, size_t *i, const unsigned char **v, size_t *vlen)
{
	if (der(p, n, i, 0x02, v, vlen) || *vlen == 0 || (**v & 0x80))
		return -1;
	while (*vlen && **v == 0) {
		(*v)++;
		(*vlen)--;
	}
	return *vlen ? 0 : -1;
}

/* RSAPublicKey (RFC 8017 A.1.1), the whole of p */
static int pkcs1(const unsigned char *p, size_t n, const unsigned char **mod, size_t *modlen,
                 const unsigned char **exp, size_t *explen)
{
	const unsigned char *c;
	size_t i = 0, j = 0, clen;

	if (der(p, n, &i, 0x30, &c, &clen) || i != n || der_uint(c, clen, &j, mod, modlen) ||
	    der_uint(c, clen, &j, exp, explen) || j != clen)
		return -1;
	return 0;
}

int dkimv_rsa_key(const unsigned char *p, size_t plen, const unsigned char **mod, size_t *modlen,
                  const unsigned char **exp, size_t *explen)
{
	/* 1.2.840.113549.1.1.1, rsaEncryption */
	static const unsigned char rsa_oid[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01 };
	const unsigned char *c, *alg, *oid, *nul, *bits;
	size_t i = 0, j = 0, a = 0, clen, alglen, oidlen, nullen, bitslen;

	if (der(p, plen, &i, 0x30, &c, &clen) || i != plen)
		return -1;
	if (clen > 0 && c[0] == 0x02)
		return pkcs1(p, plen, mod, modlen, exp, explen);
	if (der(c, clen, &j, 0x30, &alg, &alglen) || der(c, clen, &j, 0x03, &bits, &bitslen) || j != clen)
		return -1;
	if (der(alg, alglen, &a, 0x06, &oid, &oidlen) || oidlen != sizeof rsa_oid || memcmp(oid, rsa_oid, oidlen) != 0)
		return -1;
	if (a < alglen && (der(alg, alglen, &a, 0x05, &nul, &nullen) || nullen != 0))
		return -1;
	if (a != alglen || bitslen < 1 || bits[0] != 0) /* no unused bits */
		return -1;
	return pkcs1(bits + 1, bitslen - 1, mod, modlen, exp, explen);
}

/* atext (RFC 5322 3.2.3) */
static int atext(char c)
{
	return ascii_alnum(c) || (c && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

/* Whether i= can stand as RFC 8601's pvalue [local-part] "@" domain:
 * its local part empty, a dot-atom, or a quoted string.  The domain
 * passed dkim_name_ok in dkimv_sig_parse. */
static int i_shown(const char *i)
{
	const char *at = strrchr(i, '@');
	size_t n, k;

	/* a domain-name of RFC 8601 has no '_', which dkim_name_ok lets by */
	if (!at || strchr(at, '_'))
		return 0;
	n = (size_t)(at - i);
	if (n == 0)
		return 1;
	if (i[0] == '"') {
		if (n < 2 || i[n - 1] != '"')
			return 0;
		for (k = 1; k < n - 1; k++) {
			char c = i[k];
			if (c == '\\') {
				if (++k >= n - 1 || (unsigned char)i[k] < 32 || i[k] == 127)
					return 0;
			} else if (c == '"' || (unsigned char)c < 32 || c == 127) {
				return 0;
			}
		}
		return 1;
	}
	for (k = 0; k < n; k++)
		if (!(atext(i[k]) || (i[k] == '.' && k > 0 && k + 1 < n && i[k - 1] != '.')))
			return 0;
	return 1;
}

/* The field being written: pieces after a space on the current line, or
 * on a new one (LF TAB) where the line would pass AR_LINE_MAX. */
struct line {
	struct str *out;
	size_t col;
};

static int piece(struct line *w, const char *a, const char *b, size_t bn, const char *c)
{
	size_t len = strlen(a) + bn + strlen(c);

	if (w->col + 1 + len > AR_LINE_MAX) {
		if (!str_catb(w->out, "\n\t", 2))
			return -1;
		w->col = 1 + len;
	} else {
		if (!str_catc(w->out, ' '))
			return -1;
		w->col += 1 + len;
	}
	return str_cats(w->out, a) && str_catb(w->out, b, bn) && str_cats(w->out, c) ? 0 : -1;
}

/* header.b in quotes when it holds a tspecial ('/', '='): RFC 8601's
 * value is a token or a quoted string */
static int bvalue(struct line *w, const char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n && authres_tokenc(b[i]); i++)
		;
	return i == n ? piece(w, "header.b=", b, n, "") : piece(w, "header.b=\"", b, n, "\"");
}

static int result(struct line *w, const struct dkimv_result *r)
{
	const struct dkimv_sig *s = r->sig;
	const char *res = r->result ? r->result : "none";

	if (!str_catb(w->out, "\n\tdkim=", 7) || !str_cats(w->out, res))
		return -1;
	w->col = 6 + strlen(res);
	if (r->comment && piece(w, "(", r->comment, strlen(r->comment), ")"))
		return -1;
	if (r->reason) {
		/* reasons are ours, plain words; a quote or a backslash would
		 * still go out as a quoted pair, not end the string */
		struct str q = STR_INIT;
		const char *p;
		int ok = 1;
		for (p = r->reason; *p && ok; p++)
			ok = ((*p != '"' && *p != '\\') || str_catc(&q, '\\')) && str_catc(&q, *p);
		ok = ok && piece(w, "reason=\"", q.s ? q.s : "", q.len, "\"") == 0;
		str_free(&q);
		if (!ok)
			return -1;
	}
	if (!s)
		return 0;
	if (piece(w, "header.d=", s->d, strlen(s->d), "") ||
	    (s->i[0] && i_shown(s->i) && piece(w, "header.i=", s->i, strlen(s->i), "")) ||
	    piece(w, "header.s=", s->s, strlen(s->s), ""))
		return -1;
	/* an a= we do not know left s->alg unset: better no header.a */
	if (!(r->reason && !strcmp(r->reason, "unsupported algorithm")) &&
	    piece(w, "header.a=", s->alg == DKIMV_ED25519_SHA256 ? "ed25519-sha256" : "rsa-sha256",
	          s->alg == DKIMV_ED25519_SHA256 ? 14 : 10, ""))
		return -1;
	return bvalue(w, s->bprefix, strnlen(s->bprefix, s->bshow));
}

int dkimv_ar_field(struct str *out, const char *authserv_id, const struct dkimv_result *r, size_t n)
{
	struct line w;
	size_t i;

	w.out = out;
	w.col = 0;
	if (!str_cats(out, "Authentication-Results: ") || !str_cats(out, authserv_id) || !str_catc(out, ';'))
		return -1;
	if (n == 0 && !str_cats(out, "\n\tdkim=none"))
		return -1;
	for (i = 0; i < n; i++)
		if ((i && !str_catc(out, ';')) || result(&w, &r[i]))
			return -1;
	return str_catc(out, '\n') ? 0 : -1;
}

void dkimv_bshow(struct dkimv_sig *const *sigs, size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i++)
		for (j = 0; sigs[i] && j < n; j++) {
			const char *a, *b;
			if (j == i || !sigs[j])
				continue;
			a = sigs[i]->bprefix;
			b = sigs[j]->bprefix;
			/* the shared start, and one character more */
			while (sigs[i]->bshow < strlen(a) && strncmp(a, b, sigs[i]->bshow) == 0 && strcmp(a, b) != 0)
				sigs[i]->bshow++;
		}
}
