#include <arpa/inet.h>
#include <string.h>
#include "parse.h"
#include "addr.h"
#include "ascii.h"
#include "case.h"
#include "esmtpdsn.h"
#include "fmt.h"
#include "utf8.h"

int word_is(const char *b, size_t n, const char *w)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (!w[i] || ascii_tolower(b[i]) != ascii_tolower(w[i]))
			return 0;
	return w[n] == 0;
}

static const struct { const char *name; enum verb v; } verbs[] = {
	{ "helo", V_HELO }, { "ehlo", V_EHLO }, { "mail", V_MAIL }, { "rcpt", V_RCPT },
	{ "data", V_DATA }, { "bdat", V_BDAT }, { "rset", V_RSET }, { "noop", V_NOOP },
	{ "quit", V_QUIT }, { "vrfy", V_VRFY }, { "expn", V_EXPN }, { "help", V_HELP },
	{ "starttls", V_STARTTLS }, { "auth", V_AUTH }, { "turn", V_TURN }, { "etrn", V_ETRN },
};

enum verb parse_verb(const char *line, size_t n, size_t *arg)
{
	size_t i, len = 0;

	while (len < n && line[len] != ' ')
		len++;
	*arg = len < n ? len + 1 : n;
	for (i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
		if (word_is(line, len, verbs[i].name))
			return verbs[i].v;
	return V_UNKNOWN;
}

int line_bad_bytes(const char *line, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)line[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return 1;
	}
	return 0;
}

int parse_helo(const char *s, size_t n)
{
	size_t i;
	if (n == 0 || n > 255)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= 0x20 || c == 0x7f)
			return 0;
	}
	return utf8_valid(s, n);
}

/* RFC 5322 atext, plus UTF-8 bytes (RFC 6531 widens atext). */
static int atext(unsigned char c)
{
	if (ascii_alnum(c) || c >= 0x80)
		return 1;
	return c && strchr("!#$%&'*+-/=?^_`{|}~", c) != 0;
}

static int dot_atom(const char *s, size_t n)
{
	size_t i;
	if (n == 0 || s[0] == '.' || s[n - 1] == '.')
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] == '.' ? s[i + 1] == '.' : !atext((unsigned char)s[i]))
			return 0;
	return 1;
}

size_t literal_addr(const char *s, size_t n, unsigned char out[16])
{
	char buf[64];
	if (n >= sizeof buf)
		return 0;
	if (n > 5 && word_is(s, 5, "ipv6:")) {
		memcpy(buf, s + 5, n - 5);
		buf[n - 5] = 0;
		return inet_pton(AF_INET6, buf, out) == 1 ? 16 : 0;
	}
	memcpy(buf, s, n);
	buf[n] = 0;
	return inet_pton(AF_INET, buf, out) == 1 ? 4 : 0;
}

int parse_path(const char *s, size_t n, const char *kw, struct path *p, size_t *rest)
{
	size_t kl = strlen(kw), i, start, end;

	p->addr.len = 0;
	if (!str_ready(&p->addr, 0))
		return P_SYNTAX;
	p->at = 0;
	p->utf8 = 0;
	p->literal = 0;
	if (n < kl || !word_is(s, kl, kw))
		return P_SYNTAX;
	i = kl;
	while (i < n && s[i] == ' ')
		i++;
	if (i >= n || s[i] != '<')
		return P_SYNTAX;
	start = i;
	i++;
	if (i < n && s[i] == '@')
		return P_ROUTE;
	/* local part */
	if (i < n && s[i] == '"') {
		struct str *a = &p->addr;
		int has_at = 0;
		i++;
		for (;;) {
			unsigned char c;
			if (i >= n)
				return P_SYNTAX;
			c = (unsigned char)s[i];
			if (c == '"')
				break;
			if (c == '\\') {
				if (++i >= n)
					return P_SYNTAX;
				c = (unsigned char)s[i];
			}
			if (c < 0x20 || c == 0x7f)
				return P_SYNTAX;
			if (c == '@')
				has_at = 1;
			if (!str_catc(a, (char)c))
				return P_SYNTAX;
			if (a->len > PATH_MAX_)
				return P_TOOLONG;
			i++;
		}
		i++; /* the closing quote */
		if (has_at)
			return P_QUOTEDAT;
		if (!dot_atom(a->s, a->len))
			return P_QUOTED;
	} else {
		size_t l0 = i;
		while (i < n && s[i] != '@' && s[i] != '>') {
			unsigned char c = (unsigned char)s[i];
			if (c != '.' && !atext(c))
				return c == '"' ? P_QUOTED : P_SYNTAX;
			i++;
		}
		if (i - l0 > PATH_MAX_)
			return P_TOOLONG;
		if (i > l0 && !dot_atom(s + l0, i - l0))
			return P_SYNTAX;
		if (!str_catb(&p->addr, s + l0, i - l0))
			return P_SYNTAX;
	}
	if (i >= n)
		return P_SYNTAX;
	p->at = p->addr.len;
	if (s[i] == '@') {
		size_t d0 = ++i;
		if (p->addr.len == 0)
			return P_SYNTAX;
		while (i < n && s[i] != '>')
			i++;
		if (i >= n)
			return P_SYNTAX;
		if (!domain_check(s + d0, i - d0))
			return P_SYNTAX;
		if (s[d0] == '[') {
			unsigned char bin[16];
			if (!literal_addr(s + d0 + 1, i - d0 - 2, bin))
				return P_SYNTAX;
			p->literal = 1;
		}
		if (!str_catc(&p->addr, '@') || !str_catb(&p->addr, s + d0, i - d0))
			return P_SYNTAX;
	}
	/* s[i] == '>' */
	end = i + 1;
	if (end - start > PATH_MAX_)
		return P_TOOLONG;
	p->utf8 = utf8_has_high(p->addr.s, p->addr.len);
	if (p->utf8 && !utf8_valid(p->addr.s, p->addr.len))
		return P_BADUTF8;
	if (end < n) {
		if (s[end] != ' ')
			return P_SYNTAX;
		while (end < n && s[end] == ' ')
			end++;
	}
	*rest = end;
	return P_OK;
}

int parse_param(const char *s, size_t n, size_t *pos, const char **key, size_t *klen,
                const char **val, size_t *vlen)
{
	size_t i = *pos, k0;

	while (i < n && s[i] == ' ')
		i++;
	if (i >= n) {
		*pos = i;
		return 0;
	}
	k0 = i;
	while (i < n && s[i] != ' ' && s[i] != '=') {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      (c == '-' && i > k0)))
			return -1;
		i++;
	}
	if (i == k0)
		return -1;
	*key = s + k0;
	*klen = i - k0;
	*val = 0;
	*vlen = 0;
	if (i < n && s[i] == '=') {
		size_t v0 = ++i;
		while (i < n && s[i] != ' ') {
			unsigned char c = (unsigned char)s[i];
			if (c < 33 || c == '=' || c == 0x7f)
				return -1;
			i++;
		}
		if (i == v0)
			return -1;
		*val = s + v0;
		*vlen = i - v0;
	}
	while (i < n && s[i] == ' ')
		i++;
	*pos = i;
	return 1;
}

int line_is_bdat(const char *line, size_t n)
{
	char c;

	if (n < 4 || !word_is(line, 4, "bdat"))
		return 0;
	c = (char)ascii_tolower(n > 4 ? line[4] : ' ');
	return c < 'a' || c > 'z';
}

int parse_bdat(const char *s, size_t n, unsigned long long *size, int *last)
{
	size_t i = 0, d;

	*last = 0;
	while (i < n && s[i] >= '0' && s[i] <= '9')
		i++;
	if (i == 0 || i > 19)
		return 0;
	if (!scan_ulong_all(s, i, size))
		return 0;
	d = i;
	if (d == n)
		return 1;
	while (i < n && s[i] == ' ')
		i++;
	if (i == d || i == n)
		return 0;
	if (!word_is(s + i, n - i, "last"))
		return 0;
	*last = 1;
	return 1;
}

/* body states */
enum { B_BOL, B_TEXT, B_CR, B_DOT, B_DOTCR, B_DONE };

/* where the current header line's field name is */
enum { N_NAME, N_BLANK, N_DONE };

void body_init(struct body *b, int bdat)
{
	memset(b, 0, sizeof *b);
	b->state = B_BOL;
	b->bdat = bdat;
	b->in_headers = 1;
	b->name_state = N_NAME;
	b->last_lf = 1;
}

/* The field name of a header line: printable ASCII up to the colon, blanks
 * before the colon allowed (RFC 5322 4.5.3's obsolete form, which a
 * reader takes as the same field); a continuation line has none. */
static void name_done(struct body *b)
{
	b->name_state = N_DONE;
	if (b->nlen == 4 && case_eqb(b->name, 4, "date", 4))
		b->has_date = 1;
	else if (b->nlen == 10 && case_eqb(b->name, 10, "message-id", 10))
		b->has_msgid = 1;
}

static void name_byte(struct body *b, char c)
{
	int blank = c == ' ' || c == '\t';

	if (b->lpos == 0 && blank) {
		/* a continuation; on the first line it continues the Received
		 * field postern-smtpd writes above the message */
		b->name_state = N_DONE;
		return;
	}
	if (b->name_state == N_NAME && c == ':' && b->nlen > 0) {
		name_done(b);
	} else if (b->name_state == N_NAME && blank && b->nlen > 0) {
		b->name_state = N_BLANK;
	} else if (b->name_state == N_NAME && c > ' ' && c <= '~' && c != ':') {
		if (b->nlen < sizeof b->name)
			b->name[b->nlen] = c;
		b->nlen++;
	} else if (b->name_state == N_BLANK && c == ':') {
		name_done(b);
	} else if (!(b->name_state == N_BLANK && blank)) {
		b->not_a_header = 1;
		b->name_state = N_DONE;
	}
}

static void line_byte(struct body *b, char c)
{
	if (!b->in_headers)
		return;
	if (b->name_state != N_DONE)
		name_byte(b, c);
	if (b->lpos < sizeof b->lbuf)
		b->lbuf[b->lpos] = c;
	b->lpos++;
	if (b->lpos == sizeof b->lbuf && word_is(b->lbuf, sizeof b->lbuf, "received:"))
		b->hops++;
}

static void line_end(struct body *b)
{
	if (b->in_headers && b->lpos == 0)
		b->in_headers = 0;
	else if (b->in_headers && b->name_state != N_DONE)
		b->not_a_header = 1; /* no colon */
	b->lpos = 0;
	b->nlen = 0;
	b->name_state = N_NAME;
}

int body_missing(const struct body *b)
{
	if (b->not_a_header)
		return 0;
	return (b->has_date ? 0 : BODY_DATE) | (b->has_msgid ? 0 : BODY_MSGID);
}

size_t body_feed(struct body *b, const char *in, size_t n, char *out, size_t *used)
{
	size_t i = 0, o = 0;

	while (i < n && b->state != B_DONE && !b->at_blank) {
		char c = in[i];
		switch (b->state) {
		case B_BOL:
			if (c == '.' && !b->bdat) {
				b->state = B_DOT;
				i++;
				continue;
			}
			b->state = B_TEXT;
			continue; /* the same byte, as text */
		case B_DOT:
			if (c == '\r') {
				b->state = B_DOTCR;
				i++;
				continue;
			}
			b->state = B_TEXT; /* the dot is removed; the byte is text */
			continue;
		case B_DOTCR:
			if (c == '\n') {
				b->state = B_DONE;
				b->done = 1;
				i++;
				continue;
			}
			/* ".\r" then something else: a bare CR */
			b->bad = 1;
			out[o++] = '\r';
			line_byte(b, '\r');
			b->state = B_TEXT;
			continue;
		case B_TEXT:
			if (c == '\r')
				b->state = B_CR;
			else {
				if (c == '\n')
					b->bad = 1; /* bare LF: kept as text, never a line end */
				out[o++] = c;
				line_byte(b, c);
			}
			i++;
			continue;
		case B_CR:
			if (c == '\n') {
				if (b->in_headers && b->lpos == 0 && b->stop_at_blank && !b->stopped &&
				    !b->not_a_header) {
					/* the blank line: its CR taken, its LF left for
					 * the next call, after the caller's fields */
					b->stopped = b->at_blank = 1;
					break;
				}
				out[o++] = '\n';
				line_end(b);
				b->state = B_BOL;
				i++;
				continue;
			}
			b->bad = 1; /* bare CR */
			out[o++] = '\r';
			line_byte(b, '\r');
			b->state = B_TEXT;
			continue;
		}
	}
	if (o)
		b->last_lf = out[o - 1] == '\n';
	*used = i;
	return o;
}

void dsn_args_init(struct dsn_args *d)
{
	d->ret = 0;
	d->envid = d->orcpt = 0;
	d->envid_len = d->orcpt_len = 0;
	d->notify = 0;
}

/* The four parameters, each with the command it belongs to and its two
 * refusals (doc/dsn.md, "What a client may send"). */
enum { DSN_RET, DSN_ENVID, DSN_NOTIFY, DSN_ORCPT };
static const struct {
	const char *key;
	int rcpt;
	const char *repeated, *malformed;
} dsn_keys[] = {
	{ "ret", 0, "501 5.5.4 repeated RET parameter", "501 5.5.4 malformed RET parameter: FULL or HDRS" },
	{ "envid", 0, "501 5.5.4 repeated ENVID parameter",
	  "501 5.5.4 malformed ENVID parameter: 1 to 100 bytes of xtext (RFC 3461 4)" },
	{ "notify", 1, "501 5.5.4 repeated NOTIFY parameter",
	  "501 5.5.4 malformed NOTIFY parameter: NEVER, or SUCCESS, FAILURE, DELAY joined by commas" },
	{ "orcpt", 1, "501 5.5.4 repeated ORCPT parameter",
	  "501 5.5.4 malformed ORCPT parameter: address type, ';', 1 to 500 bytes of xtext" },
};

/* Whether d holds parameter which already. */
static int dsn_seen(const struct dsn_args *d, int which)
{
	switch (which) {
	case DSN_RET: return d->ret != 0;
	case DSN_ENVID: return d->envid_len != 0;
	case DSN_NOTIFY: return d->notify != 0;
	default: return d->orcpt_len != 0;
	}
}

/* 1 with val stored as parameter which, 0 if it is no good value of it. */
static int dsn_store(struct dsn_args *d, int which, const char *val, size_t vlen)
{
	switch (which) {
	case DSN_RET: return (d->ret = dsn_ret_parse(val, vlen)) != 0;
	case DSN_NOTIFY: return (d->notify = dsn_notify_parse(val, vlen)) != 0;
	case DSN_ENVID:
		if (!dsn_envid_ok(val, vlen))
			return 0;
		d->envid = val;
		d->envid_len = vlen;
		return 1;
	default:
		if (!dsn_orcpt_ok(val, vlen))
			return 0;
		d->orcpt = val;
		d->orcpt_len = vlen;
		return 1;
	}
}

int dsn_arg_take(struct dsn_args *d, int rcpt, const char *key, size_t klen, const char *val, size_t vlen,
                 const char **why)
{
	int k;

	for (k = 0; k < (int)(sizeof dsn_keys / sizeof dsn_keys[0]); k++) {
		if (dsn_keys[k].rcpt != rcpt || !word_is(key, klen, dsn_keys[k].key))
			continue;
		if (dsn_seen(d, k)) {
			*why = dsn_keys[k].repeated;
			return -1;
		}
		/* parse_param gives no empty value: "KEY=" is its syntax error */
		if (!val || vlen == 0 || !dsn_store(d, k, val, vlen)) {
			*why = dsn_keys[k].malformed;
			return -1;
		}
		return 1;
	}
	return 0;
}

/* One record: its letter, the value and the NUL. */
static int record_cat(struct str *env, char letter, const char *v, size_t n)
{
	return str_catc(env, letter) && str_catb(env, v, n) && str_catz(env);
}

int dsn_records_cat(struct str *env, const struct dsn_args *d, int rcpt)
{
	if (!rcpt) {
		if (d->ret && !record_cat(env, 'R', d->ret == DSN_RET_FULL ? "FULL" : "HDRS", 4))
			return 0;
		return !d->envid_len || record_cat(env, 'E', d->envid, d->envid_len);
	}
	/* N is the canonical form whatever case and order the client used:
	 * envelope_parse takes no other */
	if (d->notify && (!str_catc(env, 'N') || !dsn_notify_cat(env, d->notify) || !str_catz(env)))
		return 0;
	return !d->orcpt_len || record_cat(env, 'O', d->orcpt, d->orcpt_len);
}
