/* control/senderlogins (doc/smtp.md): the addresses a login may send as
 * beyond its own, for postern-smtpd -a with control/submissionsenders 1,
 * as Postfix's smtpd_sender_login_maps.  One line an address or a domain:
 *
 *     ADDRESS LOGIN...
 *
 * ADDRESS is local@domain, or @domain for every address there; each LOGIN
 * a login name (doc/pop3.md, "Names").  Case does not matter.  Read once
 * a session.  A line that is none of this makes the whole file unusable
 * rather than half read: a sender only it could allow then gets 451, so
 * that an admin's typo neither lets the wrong user through nor turns a
 * right one away for good. */
#include <string.h>
#include "addr.h"
#include "control.h"
#include "die.h"
#include "fmt.h"
#include "loginname.h"
#include "senders.h"

static struct str lines;  /* control_lines' list, lower-cased */
static int state;         /* 0 none, 1 usable, -1 unusable */

static const char *blank = " \t";

/* The next blank-separated word of line from *pos: its start and length,
 * 0 when none is left. */
static size_t word(const char *line, size_t *pos, const char **w)
{
	size_t n;

	*pos += strspn(line + *pos, blank);
	*w = line + *pos;
	n = strcspn(*w, blank);
	*pos += n;
	return n;
}

/* NULL when line is one ADDRESS and at least one LOGIN, or why not. */
static const char *line_why(const char *line)
{
	const char *w;
	size_t pos = 0, n = word(line, &pos, &w), at, logins = 0, vat;

	at = addr_at(w, n);
	if (at == n)
		return "the address has no @";
	if (at == 0 ? !domain_check(w + 1, n - 1) : addr_check(w, n) != ADDR_OK)
		return "not an address or @domain";
	while ((n = word(line, &pos, &w))) {
		if (!login_name(w, n, &vat))
			return "not a login name";
		logins++;
	}
	return logins ? 0 : "no login after the address";
}

int senders_load(void)
{
	const char *p;
	size_t line = 0;
	int r = control_lines("senderlogins", &lines);

	if (r == -1)
		return -1;
	state = r;
	lowercase(lines.s, lines.len);
	for (p = lines.s; state == 1 && p < lines.s + lines.len; p += strlen(p) + 1) {
		const char *why = line_why(p);
		line++;
		if (why) {
			char num[24];
			num[fmt_ulong(num, line)] = 0;
			warn("warning: control/senderlogins, entry ", num, ": ", why,
			     ": a sender only the file could allow gets 451");
			state = -1;
		}
	}
	return 0;
}

/* 1 when line names login (lower case, n bytes) among its logins. */
static int names(const char *line, const char *login, size_t n)
{
	const char *w;
	size_t pos = 0, k;

	(void)word(line, &pos, &w);
	while ((k = word(line, &pos, &w)))
		if (k == n && !memcmp(w, login, n))
			return 1;
	return 0;
}

int senders_mapped(const char *login, size_t n, const char *addr, size_t len, size_t at)
{
	const char *p;

	if (state != 1)
		return state;
	for (p = lines.s; p < lines.s + lines.len; p += strlen(p) + 1) {
		size_t w = strcspn(p, blank);
		int hit = p[0] == '@' ? w == len - at && !memcmp(p, addr + at, w) : w == len && !memcmp(p, addr, len);
		if (hit && names(p, login, n))
			return 1;
	}
	return 0;
}

int senders_domains(const char *login, size_t n, struct str *out)
{
	const char *p;

	if (state != 1)
		return 1;
	for (p = lines.s; p < lines.s + lines.len; p += strlen(p) + 1) {
		size_t w = strcspn(p, blank), at = addr_at(p, w), off;
		int seen = 0;
		if (!names(p, login, n))
			continue;
		for (off = 0; off < out->len; off += strlen(out->s + off) + 1)
			if (strlen(out->s + off) == w - at - 1 && !memcmp(out->s + off, p + at + 1, w - at - 1))
				seen = 1;
		if (!seen && (!str_catb(out, p + at + 1, w - at - 1) || !str_catz(out)))
			return 0;
	}
	return 1;
}
