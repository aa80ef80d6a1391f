/* MTA-STS without I/O (mtasts.h): the TXT record, the HTTP response, the
 * policy and its MX patterns, and the cache file, each read as hostile
 * text.
 *
 * What decides security is read strictly, by RFC 8461's grammar: the
 * record's id, the policy's version, mode, max_age and mx.  What does
 * not is read leniently where the RFC's examples and real servers differ
 * (LF or CR LF, blanks around separators, empty lines, fields nobody
 * knows), since a policy refused is a domain left to opportunistic TLS.
 * The HTTP framing is read strictly: a response that could be taken two
 * ways (two lengths, a length and chunks, a folded field) is refused. */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include "mtasts.h"
#include "ascii.h"
#include "case.h"
#include "fmt.h"

#define TXT_NAME_MAX 32     /* sts-ext-name: 1 + 31 characters (RFC 8461 3.1) */
#define MAXAGE_DIGITS 10    /* sts-policy-max-age-value = 1*10(DIGIT) */
#define LABEL_MAX 63        /* RFC 1035 2.3.4 */
#define FETCHED_DIGITS 19   /* LLONG_MAX has 19 */

static const char CACHE_MAGIC[] = "postern-mtasts 1\nid ";
static const char CACHE_FETCHED[] = "fetched ";

static int refuse(const char **why, const char *s)
{
	if (why)
		*why = s;
	return -1;
}

static size_t skip_wsp(const char *v, size_t n, size_t i)
{
	while (i < n && ascii_wsp(v[i]))
		i++;
	return i;
}

/* v (n bytes) is s, case and all: RFC 8461's %s"..." strings */
static int exact(const char *v, size_t n, const char *s)
{
	size_t l = strlen(s);
	return n == l && memcmp(v, s, l) == 0;
}

/* text a stranger may put in a field we do not read: printable, blanks
 * and 8-bit bytes (UTF-8, or HTTP's obs-text), but no control byte, so
 * no NUL and no CR away from its LF */
static int textbyte(char c) { return ascii_vchar(c) || ascii_wsp(c) || (unsigned char)c >= 0x80; }

static int all_text(const char *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!textbyte(v[i]))
			return 0;
	return 1;
}

/* 1-32 letters and digits: an id (RFC 8461 3.1) */
static int id_ok(const char *v, size_t n)
{
	size_t i;

	if (n == 0 || n > MTASTS_ID_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!ascii_alnum(v[i]))
			return 0;
	return 1;
}

/* sts-ext-value (RFC 8461 3.1): printable but '=' and ';' */
static int txt_valchar(char c) { return ascii_vchar(c) && c != '=' && c != ';'; }
static int txt_namechar(char c) { return ascii_alnum(c) || c == '_' || c == '-' || c == '.'; }

static int txt(const char *rec, size_t n, char id[MTASTS_ID_MAX + 1])
{
	size_t i, name, namelen, val, vallen;
	int have_id = 0;

	/* %s"v=STSv1" and then a separator, at the very start: RFC 8461
	 * 3.1 discards a record that does not begin with "v=STSv1;", so
	 * this decides 0 (the version alone among them) */
	if (n == 0 || rec[0] != 'v')
		return 0;
	i = skip_wsp(rec, n, 1);
	if (i == n || rec[i] != '=')
		return 0;
	i = skip_wsp(rec, n, i + 1);
	if (n - i < 5 || memcmp(rec + i, "STSv1", 5) != 0)
		return 0;
	i = skip_wsp(rec, n, i + 5);
	if (i == n || rec[i] != ';')
		return 0;

	/* an STS record: 1*(sts-sep sts-field) [sts-sep], each field read
	 * before any counts, so that a broken one anywhere refuses it */
	while (i < n) {
		i = skip_wsp(rec, n, i + 1); /* past the ';' */
		if (i == n)
			break;
		if (!ascii_alnum(rec[i]))
			return -1;
		name = i;
		while (i < n && txt_namechar(rec[i]))
			i++;
		namelen = i - name;
		i = skip_wsp(rec, n, i);
		if (namelen > TXT_NAME_MAX || i == n || rec[i] != '=')
			return -1;
		val = i = skip_wsp(rec, n, i + 1);
		while (i < n && txt_valchar(rec[i]))
			i++;
		vallen = i - val;
		i = skip_wsp(rec, n, i);
		if (vallen == 0 || (i < n && rec[i] != ';'))
			return -1;
		if (exact(rec + name, namelen, "id")) {
			if (have_id || !id_ok(rec + val, vallen))
				return -1;
			memcpy(id, rec + val, vallen);
			id[vallen] = 0;
			have_id = 1;
		}
	}
	return have_id ? 1 : -1;
}

int mtasts_txt(const char *rec, size_t n, char id[MTASTS_ID_MAX + 1])
{
	int r = txt(rec, n, id);

	if (r != 1)
		id[0] = 0;
	return r;
}

/* an LDH label (RFC 1123 2.1): 1-63 letters, digits and hyphens, no
 * hyphen first or last */
static int ldh_label(const char *v, size_t n)
{
	size_t i;

	if (n == 0 || n > LABEL_MAX || v[0] == '-' || v[n - 1] == '-')
		return 0;
	for (i = 0; i < n; i++)
		if (!ascii_alnum(v[i]) && v[i] != '-')
			return 0;
	return 1;
}

/* An mx value: a host name or "*." and one, a trailing dot dropped,
 * into out in lower case; -1 if it is neither. */
static int pattern(const char *v, size_t n, char out[MTASTS_NAME_MAX + 1])
{
	size_t i = 0, start, k;

	if (n > 0 && v[n - 1] == '.')
		n--;
	if (n == 0 || n > MTASTS_NAME_MAX)
		return -1;
	if (n > 2 && v[0] == '*' && v[1] == '.')
		i = 2; /* the wildcard is the whole leftmost label, and only that */
	for (start = i; start <= n; start = k + 1) {
		for (k = start; k < n && v[k] != '.'; k++)
			;
		if (!ldh_label(v + start, k - start))
			return -1;
	}
	for (i = 0; i < n; i++)
		out[i] = (char)ascii_tolower(v[i]);
	out[n] = 0;
	return 0;
}

static int policy_namechar(char c) { return ascii_alnum(c) || c == '_' || c == '-' || c == '.'; }

static int policy_fields(const char *body, size_t n, struct mtasts_policy *p, const char **why)
{
	size_t i = 0, end, next, name, k, val, d;
	int have_version = 0, have_mode = 0, have_maxage = 0;
	unsigned long long age;

	if (n > MTASTS_BODY_MAX)
		return refuse(why, "policy too long");
	while (i < n) {
		const char *nl = memchr(body + i, '\n', n - i);

		end = nl ? (size_t)(nl - body) : n;
		next = nl ? end + 1 : n;
		if (nl && end > i && body[end - 1] == '\r')
			end--;
		while (end > i && ascii_wsp(body[end - 1]))
			end--;
		if (end == i) { /* empty: the RFC's grammar has none, but a trailing one is common */
			i = next;
			continue;
		}
		name = i;
		for (k = i; k < end && policy_namechar(body[k]); k++)
			;
		if (k == name)
			return refuse(why, "malformed field name");
		d = skip_wsp(body, end, k);
		if (d == end || body[d] != ':')
			return refuse(why, "line without a colon");
		val = skip_wsp(body, end, d + 1);
		if (!all_text(body + val, end - val))
			return refuse(why, "control byte in a field");

		if (exact(body + name, k - name, "version")) {
			if (have_version)
				return refuse(why, "version twice");
			if (!exact(body + val, end - val, "STSv1"))
				return refuse(why, "version not STSv1");
			have_version = 1;
		} else if (exact(body + name, k - name, "mode")) {
			if (have_mode)
				return refuse(why, "mode twice");
			if (exact(body + val, end - val, "enforce"))
				p->mode = MTASTS_ENFORCE;
			else if (exact(body + val, end - val, "testing"))
				p->mode = MTASTS_TESTING;
			else if (exact(body + val, end - val, "none"))
				p->mode = MTASTS_NONE;
			else
				return refuse(why, "unknown mode");
			have_mode = 1;
		} else if (exact(body + name, k - name, "max_age")) {
			if (have_maxage)
				return refuse(why, "max_age twice");
			if (end - val == 0 || end - val > MAXAGE_DIGITS)
				return refuse(why, "max_age not 1 to 10 digits");
			for (age = 0, d = val; d < end; d++) {
				if (!ascii_digit(body[d]))
					return refuse(why, "max_age not 1 to 10 digits");
				age = age * 10 + (unsigned)(body[d] - '0'); /* 10 digits: no overflow */
			}
			p->max_age = age > MTASTS_MAXAGE_MAX ? MTASTS_MAXAGE_MAX : (unsigned long)age;
			have_maxage = 1;
		} else if (exact(body + name, k - name, "mx")) {
			if (p->nmx == MTASTS_MX_MAX)
				return refuse(why, "more than 16 mx patterns");
			if (pattern(body + val, end - val, p->mx[p->nmx]) != 0)
				return refuse(why, "malformed mx pattern");
			p->nmx++;
		}
		/* any other field: an extension, ignored (3.2) */
		i = next;
	}
	if (!have_version)
		return refuse(why, "no version");
	if (!have_mode)
		return refuse(why, "no mode");
	if (!have_maxage)
		return refuse(why, "no max_age");
	if (p->nmx == 0 && p->mode != MTASTS_NONE)
		return refuse(why, "no mx pattern");
	return 0;
}

int mtasts_policy_parse(const char *body, size_t n, struct mtasts_policy *p, const char **why)
{
	memset(p, 0, sizeof *p);
	if (policy_fields(body, n, p, why) == 0)
		return 0;
	memset(p, 0, sizeof *p); /* nothing half read is left to be used */
	return -1;
}

int mtasts_mx_match(const struct mtasts_policy *p, const char *host, size_t n)
{
	size_t i, ml;
	const char *m, *z;

	if (n > 0 && host[n - 1] == '.')
		n--;
	if (n == 0)
		return 0;
	for (i = 0; i < p->nmx && i < MTASTS_MX_MAX; i++) {
		m = p->mx[i];
		if (!(z = memchr(m, 0, sizeof p->mx[i])))
			continue;
		ml = (size_t)(z - m);
		if (ml > 2 && m[0] == '*' && m[1] == '.') {
			/* ".rest" at host's end, and one label, not empty, before it */
			m++;
			ml--;
			if (n > ml && case_eqn(host + n - ml, m, ml) && !memchr(host, '.', n - ml))
				return 1;
		} else if (case_eqb(host, n, m, ml)) {
			return 1;
		}
	}
	return 0;
}

/* The line at b[i] with its LF within b[..lim): 1 with *end where its
 * CR LF or LF starts and *next past it; 0 when no LF comes by lim. */
static int line_at(const char *b, size_t lim, size_t i, size_t *end, size_t *next)
{
	const char *nl = i < lim ? memchr(b + i, '\n', lim - i) : 0;

	if (!nl)
		return 0;
	*end = (size_t)(nl - b);
	*next = *end + 1;
	if (*end > i && b[*end - 1] == '\r')
		(*end)--;
	return 1;
}

/* tchar (RFC 9110 5.6.2) */
static int tchar(char c) { return ascii_alnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c)); }

/* An HTTP field line b[i..e) (RFC 9112 5): 0 with its name and its value
 * (OWS around it gone), -1 when it is none.  No blank may stand before
 * the colon (5.1), and a line starting with one, obs-fold, is refused
 * by the caller before this. */
static int http_field(const char *b, size_t i, size_t e, size_t *name, size_t *namelen, size_t *val, size_t *vallen)
{
	size_t k = i;

	while (k < e && tchar(b[k]))
		k++;
	if (k == i || k == e || b[k] != ':' || !all_text(b + k + 1, e - k - 1))
		return -1;
	*name = i;
	*namelen = k - i;
	k = skip_wsp(b, e, k + 1);
	while (e > k && ascii_wsp(b[e - 1]))
		e--;
	*val = k;
	*vallen = e - k;
	return 0;
}

static int field_is(const char *b, size_t name, size_t namelen, const char *s)
{
	return case_eqb(b + name, namelen, s, strlen(s));
}

/* "text/plain", any case, and nothing after it but parameters */
static int text_plain(const char *v, size_t n)
{
	size_t i;

	if (n < 10 || !case_eqn(v, "text/plain", 10))
		return 0;
	i = skip_wsp(v, n, 10);
	return i == n || v[i] == ';';
}

/* a hex digit's value, any case, or -1 */
static int hexval(char c) { return scan_hexdigit((char)ascii_tolower(c)); }

/* The chunked body b (n bytes, all that follows the header) decoded into
 * dec (RFC 9112 7.1), its line ends CR LF or LF; chunk extensions and
 * trailer fields are checked for their bytes and ignored. */
static int dechunk(const char *b, size_t n, struct str *dec, const char **why)
{
	size_t i = 0, e, next, k, size, lim, name, namelen, val, vallen;
	int h;

	str_truncate(dec, 0);
	if (!str_readyplus(dec, 0))
		return refuse(why, "out of memory");
	for (;;) {
		if (!line_at(b, n, i, &e, &next))
			return refuse(why, "truncated chunked body");
		if (i == e || hexval(b[i]) < 0)
			return refuse(why, "bad chunk size");
		for (size = 0, k = i; k < e && (h = hexval(b[k])) >= 0; k++) {
			size = size * 16 + (size_t)h;
			if (size > MTASTS_BODY_MAX)
				return refuse(why, "policy too long");
		}
		k = skip_wsp(b, e, k);
		if (k < e && b[k] != ';')
			return refuse(why, "bad chunk size");
		if (!all_text(b + k, e - k))
			return refuse(why, "bad chunk extension");
		i = next;
		if (size == 0)
			break;
		if (size > MTASTS_BODY_MAX - dec->len)
			return refuse(why, "policy too long");
		if (n - i < size)
			return refuse(why, "truncated chunked body");
		if (!str_catb(dec, b + i, size))
			return refuse(why, "out of memory");
		i += size;
		if (n - i >= 2 && b[i] == '\r' && b[i + 1] == '\n')
			i += 2;
		else if (i < n && b[i] == '\n')
			i++;
		else if (i == n)
			return refuse(why, "truncated chunked body");
		else
			return refuse(why, "chunk longer than its size");
	}
	/* the trailer section, as bounded as the header, and its blank line */
	lim = n - i > MTASTS_HEAD_MAX ? i + MTASTS_HEAD_MAX : n;
	for (;;) {
		if (!line_at(b, lim, i, &e, &next))
			return refuse(why, lim < n ? "trailer too long" : "truncated chunked body");
		if (e == i)
			break;
		if (ascii_wsp(b[i]) || http_field(b, i, e, &name, &namelen, &val, &vallen) != 0)
			return refuse(why, "malformed trailer field");
		i = next;
	}
	if (next != n)
		return refuse(why, "bytes after the chunked body");
	return 0;
}

/* Content-Length's value, saturated past MTASTS_BODY_MAX; -1 if not digits */
static long long content_length(const char *v, size_t n)
{
	long long u = 0;
	size_t i;

	if (n == 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (!ascii_digit(v[i]))
			return -1;
		if (u <= MTASTS_BODY_MAX)
			u = u * 10 + (v[i] - '0');
	}
	return u;
}

static int http_response(const char *buf, size_t n, struct str *dec, const char **body, size_t *len, const char **why)
{
	size_t i, e, next, lim, name, namelen, val, vallen, bl;
	long long cl = -1, l;
	int http10, chunked = 0, te = 0, ctype = 0;

	lim = n > MTASTS_HEAD_MAX ? MTASTS_HEAD_MAX : n;
	/* status-line = HTTP-version SP status-code SP [ reason-phrase ] (RFC
	 * 9112 4), the second SP taken as optional when the reason is empty */
	if (!line_at(buf, lim, 0, &e, &next))
		return refuse(why, lim < n ? "header too long" : "truncated header");
	if (e < 12 || memcmp(buf, "HTTP/1.", 7) != 0 || (buf[7] != '0' && buf[7] != '1') || buf[8] != ' ' ||
	    !ascii_digit(buf[9]) || !ascii_digit(buf[10]) || !ascii_digit(buf[11]) || (e > 12 && buf[12] != ' ') ||
	    !all_text(buf + 12, e - 12))
		return refuse(why, "malformed status line");
	if (buf[9] == '3')
		return refuse(why, "redirect, not followed (RFC 8461 3.3)");
	if (memcmp(buf + 9, "200", 3) != 0)
		return refuse(why, "status not 200");
	http10 = buf[7] == '0';

	for (i = next;; i = next) {
		if (!line_at(buf, lim, i, &e, &next))
			return refuse(why, lim < n ? "header too long" : "truncated header");
		if (e == i)
			break;
		if (ascii_wsp(buf[i]))
			return refuse(why, "folded header field");
		if (http_field(buf, i, e, &name, &namelen, &val, &vallen) != 0)
			return refuse(why, "malformed header field");
		if (field_is(buf, name, namelen, "Content-Type")) {
			if (!text_plain(buf + val, vallen))
				return refuse(why, "Content-Type not text/plain");
			ctype = 1;
		} else if (field_is(buf, name, namelen, "Content-Length")) {
			if ((l = content_length(buf + val, vallen)) < 0)
				return refuse(why, "malformed Content-Length");
			if (cl >= 0 && l != cl)
				return refuse(why, "two different Content-Lengths");
			cl = l;
		} else if (field_is(buf, name, namelen, "Transfer-Encoding")) {
			/* only chunked, once: any other coding is one not undone here */
			if (te || !case_eqb(buf + val, vallen, "chunked", 7))
				return refuse(why, "unsupported Transfer-Encoding");
			te = chunked = 1;
		}
	}
	if (!ctype)
		return refuse(why, "no Content-Type");
	/* RFC 9112 6.1 and 6.3: faulty framing, not to be guessed at */
	if (chunked && cl >= 0)
		return refuse(why, "both Transfer-Encoding and Content-Length");
	if (chunked && http10)
		return refuse(why, "Transfer-Encoding in an HTTP/1.0 response");

	if (chunked) {
		if (dechunk(buf + next, n - next, dec, why) != 0)
			return -1;
		*body = dec->s;
		*len = dec->len;
		return 0;
	}
	/* a body that ends where the connection did could have been cut
	 * short on the way: postern-tlsio hands on a close without TLS's
	 * close_notify as an end like any other, and a policy missing its
	 * last lines may still parse (a max_age of "3" for "31557600") */
	if (cl < 0)
		return refuse(why, "no Content-Length");
	bl = n - next;
	if (cl > MTASTS_BODY_MAX || bl > MTASTS_BODY_MAX)
		return refuse(why, "policy too long");
	if (cl >= 0 && bl < (size_t)cl)
		return refuse(why, "truncated body");
	if (cl >= 0 && bl > (size_t)cl)
		return refuse(why, "body longer than Content-Length");
	*body = buf + next;
	*len = bl;
	return 0;
}

int mtasts_http_response(const char *buf, size_t n, struct str *dec, const char **body, size_t *len,
                         const char **why)
{
	*body = 0;
	*len = 0;
	if (http_response(buf, n, dec, body, len, why) == 0)
		return 0;
	*body = 0;
	*len = 0;
	return -1;
}

int mtasts_cache_format(struct str *out, const char *id, long long fetched, const char *body, size_t len)
{
	const char *z = id ? memchr(id, 0, MTASTS_ID_MAX + 1) : 0;

	/* what the parser would refuse is not written: a cache always reads back */
	if (!z || !id_ok(id, (size_t)(z - id)) || fetched < 0 || len > MTASTS_BODY_MAX || (len && !body)) {
		errno = EINVAL;
		return 0;
	}
	return str_copyb(out, CACHE_MAGIC, sizeof CACHE_MAGIC - 1) && str_catb(out, id, (size_t)(z - id)) &&
	       str_catc(out, '\n') && str_cats(out, CACHE_FETCHED) && str_catu(out, (unsigned long long)fetched) &&
	       str_catb(out, "\n\n", 2) && str_catb(out, body, len);
}

static int cache_parse(const char *buf, size_t n, char id[MTASTS_ID_MAX + 1], long long *fetched, const char **body,
                       size_t *len)
{
	size_t i = sizeof CACHE_MAGIC - 1, k;
	unsigned long long u;

	if (n < i || memcmp(buf, CACHE_MAGIC, i) != 0)
		return -1;
	for (k = i; k < n && k - i <= MTASTS_ID_MAX && ascii_alnum(buf[k]); k++)
		;
	if (k == n || buf[k] != '\n' || !id_ok(buf + i, k - i))
		return -1;
	memcpy(id, buf + i, k - i);
	id[k - i] = 0;
	i = k + 1;
	if (n - i < sizeof CACHE_FETCHED - 1 || memcmp(buf + i, CACHE_FETCHED, sizeof CACHE_FETCHED - 1) != 0)
		return -1;
	i += sizeof CACHE_FETCHED - 1;
	for (k = i; k < n && k - i <= FETCHED_DIGITS && ascii_digit(buf[k]); k++)
		;
	/* digits as fmt_ulong writes them: no leading zero, so that a file
	 * read is byte for byte the one mtasts_cache_format would write */
	if (n - k < 2 || buf[k] != '\n' || buf[k + 1] != '\n' || (k - i > 1 && buf[i] == '0') ||
	    !scan_ulong_all(buf + i, k - i, &u) || u > (unsigned long long)LLONG_MAX)
		return -1;
	i = k + 2;
	if (n - i > MTASTS_BODY_MAX)
		return -1;
	*fetched = (long long)u;
	*body = buf + i;
	*len = n - i;
	return 0;
}

int mtasts_cache_parse(const char *buf, size_t n, char id[MTASTS_ID_MAX + 1], long long *fetched,
                       const char **body, size_t *len)
{
	if (cache_parse(buf, n, id, fetched, body, len) == 0)
		return 0;
	id[0] = 0;
	*fetched = 0;
	*body = 0;
	*len = 0;
	return -1;
}
