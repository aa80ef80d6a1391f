/* control/senderlogins (doc/smtp.md): the addresses a login may send as
 * beyond its own, for postern-smtpd -a with control/submissionsenders 1,
 * as Postfix's smtpd_sender_login_maps.  One line an address or a domain:
 *
 *     ADDRESS LOGIN... [# comment]
 *
 * ADDRESS is local@domain (a dot-atom local part, as the session keeps
 * senders), or @domain for every address there; each LOGIN a login name
 * (doc/pop3.md, "Names"), matched exactly.  The address's ASCII case does
 * not matter.  Read at the first sender or message that needs it, after
 * AUTH, so that no connection before a login reads or complains.  A line
 * that is none of this makes the whole file unusable rather than half
 * read: a sender only it could allow then gets 451, so that an admin's
 * typo neither lets the wrong user through nor turns a right one away for
 * good. */
#include <string.h>
#include "addr.h"
#include "control.h"
#include "die.h"
#include "dkim.h"
#include "loginname.h"
#include "senders.h"

static struct str lines;  /* control_lines' list, each address lower-cased */
static int state;         /* 0 none, 1 usable, -1 unusable */
static int loaded;

static const char *blank = " \t";

/* The next blank-separated word of line from *pos: its start and length,
 * 0 when none is left or a comment starts. */
static size_t word(const char *line, size_t *pos, const char **w)
{
	size_t n;

	*pos += strspn(line + *pos, blank);
	*w = line + *pos;
	if (**w == '#')
		return 0;
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
	if (at == 0 ? !domain_check(w + 1, n - 1) : addr_check(w, n) != ADDR_OK || memchr(w, '"', at) ||
	                                               memchr(w, '@', at))
		return "not a dot-atom address or @domain";
	while ((n = word(line, &pos, &w))) {
		if (!login_name(w, n, &vat))
			return "not a login name";
		logins++;
	}
	return logins ? 0 : "no login after the address";
}

/* For the log: the entry, a control byte shown as '?'. */
static void entry_text(const char *line, char *out, size_t max)
{
	size_t i;

	for (i = 0; line[i] && i + 1 < max; i++)
		out[i] = (unsigned char)line[i] < 0x20 || line[i] == 0x7f ? '?' : line[i];
	out[i] = 0;
}

int senders_load(void)
{
	char *p;
	int r = control_lines("senderlogins", &lines);

	loaded = 1;
	if (r == -1) {
		state = -1;
		return -1;
	}
	state = r;
	for (p = lines.s; state == 1 && p < lines.s + lines.len; p += strlen(p) + 1) {
		const char *why = line_why(p);
		if (why) {
			char text[128];
			entry_text(p, text, sizeof text);
			warn("warning: control/senderlogins, the entry \"", text, "\": ", why,
			     ": a sender only the file could allow gets 451");
			state = -1;
		} else {
			lowercase(p, strcspn(p, blank)); /* the address, after its check */
		}
	}
	return 0;
}

/* The file, read once a session; unreadable, it decides nothing. */
static int usable(void)
{
	if (!loaded && senders_load() == -1)
		warn_sys("warning: unable to read control/senderlogins: a sender only it could allow gets 451");
	return state;
}

/* 1 when line names login (n bytes) among its logins. */
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
	int s = usable();

	if (s != 1)
		return s;
	for (p = lines.s; p < lines.s + lines.len; p += strlen(p) + 1) {
		size_t w = strcspn(p, blank);
		int hit = p[0] == '@' ? w == len - at && !memcmp(p, addr + at, w) : w == len && !memcmp(p, addr, len);
		if (hit && names(p, login, n))
			return 1;
	}
	return 0;
}

/* Appends to out, once each, the first words of the entries naming login
 * that start with '@' (domains, without it) or not (single addresses),
 * those whose domain DKIM can name. */
static int grants(const char *login, size_t n, int domains, struct str *out)
{
	const char *p;

	if (usable() != 1)
		return 1;
	for (p = lines.s; p < lines.s + lines.len; p += strlen(p) + 1) {
		size_t w = strcspn(p, blank), at = addr_at(p, w), skip = domains, off;
		int seen = 0;
		if ((p[0] == '@') != domains || !dkim_name_ok(p + at + 1, w - at - 1) || !names(p, login, n))
			continue;
		for (off = 0; off < out->len; off += strlen(out->s + off) + 1)
			if (strlen(out->s + off) == w - skip && !memcmp(out->s + off, p + skip, w - skip))
				seen = 1;
		if (!seen && (!str_catb(out, p + skip, w - skip) || !str_catz(out)))
			return 0;
	}
	return 1;
}

int senders_domains(const char *login, size_t n, struct str *out)
{
	return grants(login, n, 1, out);
}

int senders_addresses(const char *login, size_t n, struct str *out)
{
	return grants(login, n, 0, out);
}
