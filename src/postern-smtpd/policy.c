/* Which recipients postern-smtpd accepts.  Relay control fails closed: a
 * domain is accepted when it is local (control/locals), virtual
 * (control/virtualdomains) or listed in control/rcpthosts; any other domain
 * only for a RELAYCLIENT.  For local and virtual domains the local part must
 * be in HOME/users/rcpt.cdb (written by postern-mkrcpt), so an unknown user
 * is refused at RCPT and no bounce is ever made for him. */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include "smtpd.h"
#include "senders.h"
#include "parse.h"
#include "addr.h"
#include "cdb.h"
#include "control.h"
#include "home.h"
#include "log.h"
#include "die.h"
#include "loginname.h"
#include "room.h"

struct config cfg;

static int num(const char *name, unsigned long long *v, unsigned long long def)
{
	if (control_num(name, v, def) == -1) {
		warn_sys("unable to read control/", name);
		return -1;
	}
	return 0;
}

int config_load(void)
{
	int r;
	struct str list = STR_INIT;
	const char *p;

	r = control_line("me", &cfg.me);
	if (r == -1)
		return -1;
	if (r == 0) {
		char host[256];
		if (gethostname(host, sizeof host - 1) == -1)
			return -1;
		host[sizeof host - 1] = 0;
		if (!str_copys(&cfg.me, host))
			return -1;
	}
	if (!domain_check(cfg.me.s, cfg.me.len)) {
		errno = EINVAL;
		warn("control/me is not a domain name");
		return -1;
	}
	r = control_lines("locals", &cfg.locals);
	if (r == -1)
		return -1;
	if (r == 0 && (!str_cats(&cfg.locals, cfg.me.s) || !str_catz(&cfg.locals) ||
	               !str_cats(&cfg.locals, "localhost") || !str_catz(&cfg.locals)))
		return -1;
	r = control_lines("rcpthosts", &cfg.rcpthosts);
	if (r == -1)
		return -1;
	cfg.has_rcpthosts = r == 1;
	/* virtualdomains: one domain a line; a qmail-style "domain:prefix" keeps only the domain */
	if (control_lines("virtualdomains", &list) == -1)
		return -1;
	cfg.vdomains.len = 0;
	if (!str_ready(&cfg.vdomains, 0))
		return -1;
	for (p = list.s; p && p < list.s + list.len; p += strlen(p) + 1) {
		const char *colon = strchr(p, ':');
		size_t n = colon ? (size_t)(colon - p) : strlen(p);
		if (n && (!str_catb(&cfg.vdomains, p, n) || !str_catz(&cfg.vdomains)))
			return -1;
	}
	str_free(&list);
	r = control_line("separators", &cfg.separators);
	if (r == -1)
		return -1;
	if (r == 0 && !str_copys(&cfg.separators, "-"))
		return -1;
	if (num("databytes", &cfg.databytes, 52428800) || num("maxrcpt", &cfg.maxrcpt, 100) ||
	    num("timeoutsmtpd", &cfg.timeout, 300) || num("timeoutsession", &cfg.session, 3600) ||
	    num("maxerrors", &cfg.maxerrors, 10) || num("greetdelay", &cfg.greetdelay, 0) ||
	    num("starttls", &cfg.starttls, 1) || num("queuefree", &cfg.queuefree, QUEUEFREE_DEFAULT) ||
	    num("dsn", &cfg.dsn, 1))
		return -1;
	if (cfg.submission &&
	    (num("submissionplaintext", &cfg.plaintext, 0) || num("submissionsenders", &cfg.senders, 1) ||
	     num("submissionlimit", &cfg.sendlimit, 0)))
		return -1;
	/* only submission's mail is signed: port 25's comes from strangers */
	cfg.dkim = 0;
	if (cfg.submission) {
		if ((r = control_lines("dkimdomains", &list)) == -1)
			return -1;
		cfg.dkim = r == 1;
		str_free(&list);
	}
	/* a client of the submission ports logs in: no list is asked about it */
	cfg.dnsbl.len = cfg.rhsbl.len = cfg.dnswl.len = 0;
	cfg.senderdomaincheck = cfg.spf = cfg.spfhelo = cfg.dkimverify = cfg.dmarc = 0;
	if (!cfg.submission && (control_lines("dnsbl", &cfg.dnsbl) == -1 || control_lines("rhsbl", &cfg.rhsbl) == -1 ||
	                        control_lines("dnswl", &cfg.dnswl) == -1 ||
	                        num("senderdomaincheck", &cfg.senderdomaincheck, 0) || num("spf", &cfg.spf, 0) ||
	                        num("spfhelo", &cfg.spfhelo, 0) || num("dkimverify", &cfg.dkimverify, 0) ||
	                        num("dmarc", &cfg.dmarc, 0)))
		return -1;
	if (cfg.maxrcpt == 0)
		cfg.maxrcpt = 1;
	if (cfg.timeout == 0 || cfg.timeout > 86400)
		cfg.timeout = 300;
	if (cfg.session > 86400 * 7)
		cfg.session = 86400 * 7;
	if (cfg.greetdelay > 300)
		cfg.greetdelay = 300;
	return 0;
}

/* The recipient table, opened on first use in each session so that a new
 * table from postern-mkrcpt counts from the next connection on. */
static struct cdb table;
static int table_state; /* 0 not tried, 1 open, -1 unusable */

static int lookup(const char *key, size_t n)
{
	int r;
	if (table_state == 0) {
		struct str path = STR_INIT;
		if (!home_path(&path, "users/rcpt.cdb"))
			die_nomem();
		r = cdb_open(&table, path.s);
		if (r == 1)
			table_state = 1;
		else {
			table_state = -1;
			if (r == 0)
				warn("warning: ", path.s, " is missing: run postern-mkrcpt; local recipients are deferred");
			else
				warn_sys("warning: unable to open ", path.s);
		}
		str_free(&path);
	}
	if (table_state != 1)
		return -1;
	r = cdb_find(&table, key, n, 0, 0);
	if (r == -1)
		warn("warning: users/rcpt.cdb is corrupt");
	return r;
}

static int key2(struct str *k, char type, const char *a, size_t an, const char *b, size_t bn, int sep)
{
	k->len = 0;
	if (!str_catc(k, type) || !str_catb(k, a, an) || (sep && !str_catz(k)) || !str_catb(k, b, bn))
		die_nomem();
	return lookup(k->s, k->len);
}

static int is_sep(char c) { return c && memchr(cfg.separators.s, c, cfg.separators.len) != 0; }

/* The user local part l (lower-cased) delivers to, as postern-send
 * reads it: the longest prefix that names a user, ending at a separator
 * or the end.  1 with its length in *userlen, 0 none (the alias user's),
 * -1 the table cannot say.  k is the caller's scratch key. */
static int local_user(struct str *k, const char *l, size_t n, size_t *userlen)
{
	size_t u;
	int r;

	for (u = n + 1; u-- > 0;) {
		if (u < n && !is_sep(l[u]))
			continue;
		if (u == 0)
			break;
		r = key2(k, 'U', l, u, "", 0, 0);
		if (r != 0) {
			*userlen = u;
			return r;
		}
	}
	return 0;
}

/* Local part l (lower-cased) at a local domain.  Keys (doc/smtp.md):
 * U<user>  a user;  E<user>\0<ext>  a .postern-EXT file;  D<user>\0<prefix>
 * a .postern-PREFIXdefault file.  The alias user is the empty user name. */
static int local_known(const char *l, size_t n)
{
	struct str k = STR_INIT;
	size_t userlen = 0, i;
	int found = 0, r = 0;

	if (word_is(l, n, "postmaster"))
		return 1; /* RFC 5321 4.5.1: always accepted */
	r = local_user(&k, l, n, &userlen);
	if (r == -1)
		goto out;
	found = r == 1;
	{
		const char *user = found ? l : "";
		size_t ul = found ? userlen : 0;
		const char *ext = found ? (userlen < n ? l + userlen + 1 : l + n) : l;
		size_t el = (size_t)(l + n - ext);
		if (found && el == 0) {
			r = 1;
			goto out;
		}
		r = key2(&k, 'E', user, ul, ext, el, 1);
		if (r != 0)
			goto out;
		/* defaults as postern-local searches them: the ext cut after each
		 * '-' (not a leading one), longest first, then "" */
		for (i = el + 1; i-- > 0;) {
			if (i > 0 && !(ext[i - 1] == '-' && i - 1 > 0))
				continue;
			r = key2(&k, 'D', user, ul, ext, i, 1);
			if (r != 0)
				goto out;
		}
	}
out:
	str_free(&k);
	return r;
}

/* The mailbox LOCAL l (ln bytes, lower-cased) at virtual domain d
 * delivers to, as postern-local reads it: LOCAL, else BASE for LOCAL =
 * BASE-EXT or BASE+EXT.  1 with its length in *boxlen, 0 none, -1 the
 * table cannot say. */
static int virtual_box(const char *l, size_t ln, const char *d, size_t dn, size_t *boxlen)
{
	struct str k = STR_INIT;
	int r;

	if (!str_catc(&k, 'V') || !str_catb(&k, d, dn) || !str_catc(&k, '/') || !str_catb(&k, l, ln))
		die_nomem();
	r = lookup(k.s, k.len);
	*boxlen = ln;
	if (r == 0) {
		size_t base = 0;
		while (base < ln && l[base] != '-' && l[base] != '+')
			base++;
		if (base > 0 && base < ln) {
			k.len = 1 + dn + 1;
			if (!str_catb(&k, l, base))
				die_nomem();
			r = lookup(k.s, k.len);
			*boxlen = base;
		}
	}
	str_free(&k);
	return r;
}

static int virtual_known(const char *l, size_t ln, const char *d, size_t dn)
{
	size_t boxlen;
	if (word_is(l, ln, "postmaster"))
		return 1;
	return virtual_box(l, ln, d, dn, &boxlen);
}

enum rcpt_verdict rcpt_policy(const char *addr, size_t len, size_t at)
{
	struct str a = STR_INIT;
	const char *l, *d;
	size_t ln, dn, i;
	int r;
	enum rcpt_verdict v;

	if (!str_copyb(&a, addr, len))
		die_nomem();
	lowercase(a.s, a.len);
	l = a.s;
	ln = at;
	d = a.s + at + 1;
	dn = len - at - 1;
	/* relay tricks are refused for everyone, RELAYCLIENT included */
	for (i = 0; i < ln; i++)
		if (l[i] == '%' || l[i] == '!' || l[i] == '@') {
			v = RC_TRICK;
			goto out;
		}
	if (d[0] == '[') {
		unsigned char bin[16];
		size_t bl = literal_addr(d + 1, dn - 2, bin);
		if (!bl || bl != client.localbinlen || memcmp(bin, client.localbin, bl) != 0) {
			v = RC_LITERAL;
			goto out;
		}
		r = local_known(l, ln);
	} else if (domain_listed(d, dn, &cfg.locals))
		r = local_known(l, ln);
	else if (domain_listed(d, dn, &cfg.vdomains))
		r = virtual_known(l, ln, d, dn);
	else {
		v = client.relay || (cfg.has_rcpthosts && domain_listed(d, dn, &cfg.rcpthosts)) ? RC_OK : RC_RELAY;
		goto out;
	}
	v = r == 1 ? RC_OK : r == 0 ? RC_UNKNOWN : RC_TEMP;
	/* sendmail -bs: a local user, who may inject to any address with
	 * sendmail anyway and gets any bounce himself; he cannot read the table */
	if (client.local && v == RC_TEMP)
		v = RC_OK;
out:
	str_free(&a);
	return v;
}

/* Whether the login user may send as addr (control/submissionsenders,
 * doc/smtp.md): the null sender, or an address that is delivered to the
 * login, resolved as delivery resolves it (local_user, virtual_box), so
 * that bob may send as bob-list@ but not as bob-smith@ when bob-smith is
 * a user of his own; or one control/senderlogins gives it.  1 yes, 0 no,
 * -1 the recipient table or senderlogins cannot say. */
int sender_owned(const char *user, size_t ulen, const char *addr, size_t len, size_t at)
{
	struct str a = STR_INIT, u = STR_INIT, k = STR_INIT;
	const char *d;
	size_t uat, dn, got = 0;
	int kind, r = 0;

	if (len == 0)
		return 1;
	kind = login_name(user, ulen, &uat);
	if (!kind || !str_copyb(&a, addr, len) || !str_copyb(&u, user, ulen))
		die_nomem();
	lowercase(a.s, a.len);
	lowercase(u.s, u.len);
	d = a.s + at + 1;
	dn = len - at - 1;
	if (kind == 1 && domain_listed(d, dn, &cfg.locals)) {
		r = local_user(&k, a.s, at, &got);
		r = r == 1 ? got == ulen && !memcmp(a.s, u.s, ulen) : r;
	} else if (kind == 2 && !domain_listed(d, dn, &cfg.locals) && domain_listed(d, dn, &cfg.vdomains) &&
	           dn == ulen - uat - 1 && !memcmp(d, u.s + uat + 1, dn)) {
		r = virtual_box(a.s, at, d, dn, &got);
		r = r == 1 ? got == uat && !memcmp(a.s, u.s, uat) : r;
	}
	if (r != 1) {
		int m = senders_mapped(user, ulen, a.s, len, at);
		r = m == 1 ? 1 : m == -1 ? -1 : r;
	}
	str_free(&a);
	str_free(&u);
	str_free(&k);
	return r;
}
