/* Authentication-Results fields that claim to be this host's: the
 * judgement, and the header filter that takes them out as a message
 * streams.  authres.h. */
#include <string.h>
#include "authres.h"
#include "ascii.h"
#include "case.h"

static const char name[] = "authentication-results";
#define NAME_LEN (sizeof name - 1)

int authres_tokenc(char c)
{
	return (unsigned char)c > 32 && c != 127 && !strchr("()<>@,;:\\\"/[]?=", c);
}

/* Past any CFWS at v[i]: white space, line ends, comments (nested, with
 * quoted pairs).  An unclosed comment runs to the end. */
static size_t cfws(const char *v, size_t n, size_t i)
{
	size_t depth = 0;

	for (; i < n; i++) {
		char c = v[i];
		if (c == '(')
			depth++;
		else if (depth && c == ')')
			depth--;
		else if (depth && c == '\\')
			i++;
		else if (!depth && !ascii_wsp(c) && c != '\r' && c != '\n')
			break;
	}
	return i < n ? i : n;
}

int authres_is_ours(const char *v, size_t n, const char *id)
{
	size_t idn = strlen(id), i, k;

	if (idn == 0 || n < NAME_LEN || !case_eqb(v, NAME_LEN, name, NAME_LEN))
		return 0;
	/* blanks before the colon (RFC 5322 4.5.3), folded too: a reader
	 * that unfolds first sees "Authentication-Results :" */
	for (i = NAME_LEN; i < n && (ascii_wsp(v[i]) || v[i] == '\r' || v[i] == '\n'); i++)
		;
	if (i >= n || v[i] != ':')
		return 0;
	i = cfws(v, n, i + 1);
	if (i == n)
		return 0;
	if (v[i] == '"') {
		for (i++, k = 0; i < n && v[i] != '"'; i++) {
			char c = v[i];
			if (c == '\r' || c == '\n')
				continue; /* folding inside the quotes */
			if (c == '\\' && i + 1 < n)
				c = v[++i];
			if (k == idn || !case_eqn(&c, id + k, 1))
				return k == idn && c == '.' && i + 1 < n && v[i + 1] == '"';
			k++;
		}
		return k == idn;
	}
	for (k = i; k < n && authres_tokenc(v[k]); k++)
		;
	/* the host's name written with the root's dot is the host too */
	if (k - i == idn + 1 && v[k - 1] == '.')
		k--;
	return case_eqb(v + i, k - i, id, idn);
}

/* Where the stream stands: in a field that passes (or its
 * continuation), on a field's first line while its name may still be
 * Authentication-Results (held), in such a field (held), in one of ours
 * being dropped, past the header. */
enum { S_PASS, S_NAME, S_HOLD, S_DROP, S_BODY };

void authres_strip_init(struct authres_strip *a, const char *id, void (*put)(const char *, size_t))
{
	struct str keep = a->held;

	memset(a, 0, sizeof *a);
	a->held = keep; /* its room, from an earlier message */
	a->held.len = 0;
	a->id = id;
	a->put = put;
	a->state = S_PASS;
	a->bol = 1;
}

/* A held field is whole: ours goes, any other passes. */
static void judge(struct authres_strip *a)
{
	size_t n = a->held.len;

	if (a->state == S_HOLD) {
		if (n && a->held.s[n - 1] == '\n')
			n--;
		if (authres_is_ours(a->held.s, n, a->id))
			a->removed++;
		else
			a->put(a->held.s, a->held.len);
	} else if (a->state == S_NAME) {
		a->put(a->held.s, a->held.len);
	}
	a->held.len = 0;
}

void authres_strip_flush(struct authres_strip *a)
{
	if (a->state == S_BODY)
		return;
	judge(a);
	a->state = S_PASS;
}

/* One byte of a field name on the line being held: 1 while it may still
 * be Authentication-Results, blanks (and, for authres_is_ours's sake, a
 * CR) before the colon allowed (RFC 5322 4.5.3); the colon makes it one. */
static int name_step(struct authres_strip *a, char c)
{
	if (a->matched < NAME_LEN) {
		if (ascii_tolower(c) != name[a->matched])
			return 0;
		a->matched++;
		return 1;
	}
	if (c == ':') {
		a->state = S_HOLD;
		return 1;
	}
	return ascii_wsp(c) || c == '\r';
}

int authres_strip_feed(struct authres_strip *a, const char *in, size_t n)
{
	size_t i = 0;

	while (i < n) {
		const char *nl;
		size_t end;

		if (a->state == S_BODY) {
			a->put(in + i, n - i);
			return 1;
		}
		if (a->bol) {
			a->bol = 0;
			if (in[i] == '\n') {
				/* the blank line: the header's end */
				judge(a);
				a->state = S_BODY;
				continue;
			}
			if (!ascii_wsp(in[i])) {
				/* a new field: the one before it is whole */
				judge(a);
				a->state = S_NAME;
				a->matched = 0;
			}
		}
		while (a->state == S_NAME && i < n) {
			char c = in[i];
			if (c == '\n' && a->matched == NAME_LEN) {
				/* the name and blanks, then a line end: the colon
				 * may come on a continuation line, so the field is
				 * held on until the next line shows what it is */
				if (!str_catc(&a->held, c))
					return 0;
				i++;
				a->bol = 1;
				break;
			}
			if (a->held.len >= AUTHRES_HOLD_MAX) {
				/* blanks without end before a colon */
				a->held.len = 0;
				a->removed++;
				a->state = S_DROP;
				break;
			}
			if (c == '\n' || !name_step(a, c)) {
				/* no Authentication-Results: what was held passes, and
				 * the rest of the line with it */
				a->put(a->held.s, a->held.len);
				a->held.len = 0;
				a->state = S_PASS;
				break;
			}
			if (!str_catc(&a->held, c))
				return 0;
			i++;
		}
		if (i == n)
			break;
		if (a->bol)
			continue; /* a held name's line ended */
		nl = memchr(in + i, '\n', n - i);
		end = nl ? (size_t)(nl - in) + 1 : n;
		if (a->state == S_PASS) {
			a->put(in + i, end - i);
		} else if (a->state == S_HOLD) {
			if (a->held.len + (end - i) > AUTHRES_HOLD_MAX) {
				a->held.len = 0;
				a->removed++;
				a->state = S_DROP;
			} else if (!str_catb(&a->held, in + i, end - i)) {
				return 0;
			}
		}
		/* S_DROP: the bytes go */
		a->bol = nl != 0;
		i = end;
	}
	return 1;
}

void authres_strip_free(struct authres_strip *a)
{
	str_free(&a->held);
}
