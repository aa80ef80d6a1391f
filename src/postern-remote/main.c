/* postern-remote: delivers messages to the recipients of one domain over
 * SMTP, as many as it can over one connection, and reports one result per
 * recipient and per message.  Started by postern-rspawn with the queued
 * messages on fds 3, 4, ... (-b) and a pipe on fd 1 (doc/postern-remote.8,
 * doc/pipes.md); writes nothing on disk, runs nothing, and treats DNS
 * answers and server replies as hostile. */
#include <arpa/nameser.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "remote.h"
#include "case.h"
#include "addr.h"
#include "argblank.h"
#include "control.h"
#include "die.h"
#include "envelope.h"
#include "esmtpdsn.h"
#include "fmt.h"
#include "idna.h"
#include "utf8.h"
#include "log.h"
#include "uniq.h"

#define USAGE "postern-remote domain sender qid recipient...  |  postern-remote -b domain sender mailparams qid n recipient rcptparams ... [sender mailparams qid n recipient rcptparams ...]..."

/* One message of the run: its job for smtp.c and what is reported. */
struct one {
	struct job j;
	char msgstatus;
	struct str msgtext;
	struct str host, ip; /* the address tried last */
};
static struct one ones[MSGS_MAX];
static size_t nones;
static struct creds creds;

/* A smarthost's name in UTF-8 as its A-labels, in place: 1, or 0 when it
 * is no valid name. */
static int smarthost_alabels(struct str *host)
{
	struct str ascii = STR_INIT;
	int r = idna_to_ascii(host->s, host->len, &ascii);

	if (r == IDNA_NOMEM || (r == IDNA_OK && !str_copyb(host, ascii.s, ascii.len)))
		die_nomem();
	str_free(&ascii);
	return r == IDNA_OK;
}

/* Every recipient of o not yet settled gets st and text; the message too. */
static void one_all(struct one *o, char st, const char *text)
{
	size_t i;
	for (i = 0; i < o->j.n; i++)
		if (!o->j.st[i]) {
			o->j.st[i] = st;
			o->j.text[i].len = 0;
			if (!str_cats(&o->j.text[i], text))
				die_nomem();
		}
	o->msgstatus = st;
	o->msgtext.len = 0;
	if (!str_cats(&o->msgtext, text))
		die_nomem();
}

/* The same for every message: the domain's route, DNS or credentials. */
static void all(char st, const char *text)
{
	size_t k;
	for (k = 0; k < nones; k++)
		one_all(ones + k, st, text);
}

static void text_clean(struct str *t);

static size_t written; /* messages whose records are on fd 1 */

/* One message's records: one per recipient, then the message's, STATUS
 * TEXT \0 each (doc/pipes.md, "postern-remote -> postern-rspawn"), and
 * its log lines. */
static void write_one(struct one *o)
{
	struct str out = STR_INIT;
	unsigned long long now = (unsigned long long)time(0), arr = qid_time(o->j.qid, strlen(o->j.qid));
	size_t i;

	for (i = 0; i < o->j.n; i++) {
		struct logline l = { STR_INIT };
		size_t tl = o->j.text[i].len > TEXT_MAX ? TEXT_MAX : o->j.text[i].len;
		char st = o->j.st[i] ? o->j.st[i] : 'Z';
		text_clean(&o->j.text[i]);
		if (!str_catc(&out, st) || !str_catb(&out, o->j.text[i].s ? o->j.text[i].s : "", tl) ||
		    !str_catz(&out))
			die_nomem();
		log_begin(&l, "attempt");
		log_kv(&l, "qid", o->j.qid);
		log_kvb(&l, "to", o->j.rcpt[i], o->j.rcpt_len[i]);
		log_kvb(&l, "mx", o->host.s ? o->host.s : "", o->host.len);
		log_kvb(&l, "ip", o->ip.s ? o->ip.s : "", o->ip.len);
		log_kv(&l, "status", st == 'K' || st == 'R' ? "delivered" : st == 'D' ? "failed" : "deferred");
		log_kvb(&l, "reply", o->j.text[i].s ? o->j.text[i].s : "", tl);
		if (st == 'R') /* to a server without DSN: the request for a report ends here */
			log_kv(&l, "dsn", "relayed");
		if (o->j.tlsproto[0])
			log_kv(&l, "tls", o->j.tlsproto);
		/* MTA-STS mode testing: delivered as under may, and what enforce
		 * would have refused said (RFC 8461 5; doc/remote.md) */
		if (o->j.sts_testing) {
			log_kv(&l, "sts", "testing");
			if (o->j.sts_failure[0])
				log_kv(&l, "sts_failure", o->j.sts_failure);
		}
		log_kvu(&l, "delay", now > arr ? now - arr : 0);
		log_end(&l);
	}
	if (!str_catc(&out, o->msgstatus) ||
	    !str_catb(&out, o->msgtext.s ? o->msgtext.s : "", o->msgtext.len > TEXT_MAX ? TEXT_MAX : o->msgtext.len) ||
	    !str_catz(&out))
		die_nomem();
	if (write_all(1, out.s, out.len) == -1)
		die_sys(111, "fatal: unable to report the results");
	str_free(&out);
}

/* The records of every message not yet reported, then the exit. */
static _Noreturn void finish(void)
{
	auth_wipe(&creds);
	for (; written < nones; written++)
		write_one(ones + written);
	_exit(0);
}

static void text_clean(struct str *t)
{
	size_t i;
	for (i = 0; i < t->len; i++)
		if ((unsigned char)t->s[i] < 0x20 || t->s[i] == 0x7f)
			t->s[i] = ' ';
}


/* A message whose recipients a server has all answered is done here:
 * its records go out at once, in argument order, so that a postern-remote
 * killed later (a hung server, a timeout of the next message) does not
 * take a delivered message's result with it and make it a duplicate. */
static void one_sent(struct one *o)
{
	o->msgstatus = 'K';
	o->msgtext.len = 0;
	if (!str_cats(&o->msgtext, "sent to ") || !str_cat(&o->msgtext, &o->host) ||
	    !str_cats(&o->msgtext, " [") || !str_cat(&o->msgtext, &o->ip) || !str_catc(&o->msgtext, ']'))
		die_nomem();
}

static void report_settled(void)
{
	while (written < nones && job_settled(&ones[written].j)) {
		one_sent(ones + written);
		write_one(ones + written);
		written++;
	}
}

static int settled(void)
{
	size_t k;
	for (k = 0; k < nones; k++)
		if (!job_settled(&ones[k].j))
			return 0;
	return 1;
}

/* Credentials go only to a host a route names, never to one found in
 * DNS, and only over TLS whose certificate was verified (policy verify in
 * control/remotetls, which smtp.c holds the session to) or to a host the
 * admin listed in control/smtpauthplaintext.  Policies may and encrypt
 * are not enough: a man in the middle takes any certificate they take.
 * Otherwise the job defers without connecting, so nothing is sent. */
static void smarthost_auth(const struct route *rt, enum tls_policy pol)
{
	struct str why = STR_INIT, plain = STR_INIT;
	size_t k;
	int r = auth_load(rt->host.s, rt->host.len, &creds, &why), clear;

	if (r == -2)
		die_nomem();
	if (r == -1) {
		struct logline l = { STR_INIT };
		log_begin(&l, "auth_refused");
		log_kv(&l, "qid", ones[0].j.qid);
		log_kv(&l, "mx", rt->host.s);
		log_kvb(&l, "reason", why.s, why.len);
		log_end(&l);
		if (!str_cats(&why, " (4.7.0)"))
			die_nomem();
		all('Z', why.s);
		finish();
	}
	if (r == 0)
		return;
	/* No core file and no ptrace by other processes of this uid while a
	 * password is in memory: main() made us undumpable at the start. */
	if (control_lines("smtpauthplaintext", &plain) < 0) {
		all('Z', "unable to read control/smtpauthplaintext (4.3.0)");
		finish();
	}
	clear = auth_plaintext_ok(&plain, rt->host.s, rt->host.len);
	if (!clear && pol != TLS_VERIFY) {
		struct logline l = { STR_INIT };
		static const char e[] = "credentials not sent: the smarthost is neither under policy verify in "
		                        "control/remotetls nor in control/smtpauthplaintext (4.7.0)";
		log_begin(&l, "auth_refused");
		log_kv(&l, "qid", ones[0].j.qid);
		log_kv(&l, "mx", rt->host.s);
		log_kv(&l, "reason", e);
		log_end(&l);
		all('Z', e);
		finish();
	}
	str_free(&plain);
	for (k = 0; k < nones; k++) {
		ones[k].j.auth = &creds;
		ones[k].j.auth_clear = clear;
	}
}

/* One message's arguments and its file: with paired, rcpt holds n pairs
 * of an address and its RCPT parameters; else n addresses, and no
 * parameters anywhere (mailparams ""). */
static void one_take(struct one *o, const char *domain, size_t dlen, const char *sender, const char *mailparams,
                     const char *qid, char **rcpt, size_t n, int paired, int fd)
{
	struct job *j = &o->j;
	struct stat st;
	size_t i;

	if (envelope_sender_ok(sender, strlen(sender)) != ENV_OK || !qid_valid(qid, strlen(qid)))
		die(100, "fatal: bad sender or queue id");
	/* postern-rspawn checked them; they go on the wire after MAIL and
	 * RCPT, so checked again here all the same (doc/dsn.md) */
	j->mailparams = mailparams;
	j->mailparams_len = strlen(mailparams);
	if (!dsn_params_ok(mailparams, j->mailparams_len, 0))
		die(100, "fatal: bad DSN parameters for MAIL");
	j->qid = qid;
	j->sender = sender;
	j->sender_len = strlen(sender);
	if (j->sender_len == 4 && memcmp(j->sender, "#@[]", 4) == 0)
		j->sender_len = 0; /* the double-bounce marker goes out as <> */
	j->n = n;
	for (i = 0; i < n; i++) {
		const char *a = paired ? rcpt[2 * i] : rcpt[i], *p = paired ? rcpt[2 * i + 1] : "";
		size_t l = strlen(a), at = addr_at(a, l);
		if (addr_check(a, l) != ADDR_OK || l - at - 1 != dlen || !case_eqn(a + at + 1, domain, dlen))
			die(100, "fatal: bad recipient or not of the domain");
		j->rcpt[i] = a;
		j->rcpt_len[i] = l;
		j->rparams[i] = p;
		j->rparams_len[i] = strlen(p);
		if (!dsn_params_ok(p, j->rparams_len[i], 1))
			die(100, "fatal: bad DSN parameters for RCPT");
		j->utf8 |= utf8_has_high(a, l);
	}
	j->utf8 |= utf8_has_high(j->sender, j->sender_len);
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode))
		die_sys(111, "fatal: a message's fd is not a file");
	j->msglen = (size_t)st.st_size;
	j->msg = "";
	if (j->msglen) {
		void *p = mmap(0, j->msglen, PROT_READ, MAP_PRIVATE, fd, 0);
		if (p == MAP_FAILED)
			die_sys(111, "fatal: unable to map the message");
		j->msg = p;
	}
	j->eightbit = utf8_has_high(j->msg, j->msglen);
	o->msgstatus = 'Z';
}

/* The arguments after DOMAIN: SENDER QID RCPT..., or with -b groups of
 * SENDER MAILPARAMS QID N and N pairs RCPT RCPTPARAMS, with message k on
 * fd 3 + k. */
static void args_take(int batch, const char *domain, size_t dlen, char **arg, size_t narg)
{
	size_t pos = 0, total = 0;

	if (!batch) {
		if (narg < 3 || narg - 2 > RCPT_MAX)
			die_usage(USAGE);
		one_take(ones, domain, dlen, arg[0], "", arg[1], arg + 2, narg - 2, 0, 0);
		nones = 1;
		return;
	}
	while (pos < narg) {
		unsigned long long n;
		if (nones == MSGS_MAX || narg - pos < 6 || !scan_ulong_all(arg[pos + 3], strlen(arg[pos + 3]), &n) ||
		    n < 1 || n > RCPT_MAX || n > (narg - pos - 4) / 2 || (total += (size_t)n) > RCPT_MAX)
			die_usage(USAGE);
		one_take(ones + nones, domain, dlen, arg[pos], arg[pos + 1], arg[pos + 2], arg + pos + 4, (size_t)n,
		         1, 3 + (int)nones);
		nones++;
		pos += 4 + 2 * (size_t)n;
	}
	if (!nones)
		die_usage(USAGE);
}

int main(int argc, char **argv)
{
	static struct addr addrs[ADDRS_MAX];
	static struct mx mxs[HOSTS_MAX];
	static struct job *js[MSGS_MAX];
	struct route rt = { 0, STR_INIT, 25 };
	struct str routes = STR_INIT, tlslines = STR_INIT, helo = STR_INIT, why = STR_INIT, alabels = STR_INIT;
	enum tls_policy pol = TLS_MAY;
	unsigned long long tc, tr;
	const char *domain, *name, *bad;
	char **arg;
	size_t dlen, nlen, naddr = 0, nmx = 0, skipped = 0, i, k;
	int r, batch = 0, names_secure = 1; /* a route's name is the admin's; MX answers say */
	int idn_bad = 0;

	progname = "postern-remote";
	/* Every delivery runs as the same user: one that a hostile server's
	 * replies took over must not be able to ptrace the others and steer
	 * their sessions, nor leave a core file with a password in it.  The
	 * install makes this program execute-only (0711), so the kernel
	 * already starts it undumpable, with no window before this line. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		die_sys(111, "fatal: unable to make myself undumpable");
	if (argc > 1 && strcmp(argv[1], "-b") == 0) {
		batch = 1;
		argv++;
		argc--;
	}
	if (argc < 2)
		die_usage(USAGE);
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		die_sys(111, "fatal: unable to ignore SIGPIPE");
	/* the domain and envelopes out of the public command line (argblank.h) */
	if (!(arg = args_blank(argv + 1, (size_t)argc - 1)))
		die_nomem();
	domain = arg[0];
	dlen = strlen(domain);
	if (!domain_check(domain, dlen))
		die(100, "fatal: bad domain");
	args_take(batch, domain, dlen, arg + 1, (size_t)argc - 2);

	if (control_line("helohost", &helo) == 0 && control_line("me", &helo) == 0) {
		char h[256];
		if (gethostname(h, sizeof h - 1) == -1)
			h[0] = 0;
		h[sizeof h - 1] = 0;
		if (!str_copys(&helo, h[0] ? h : "localhost"))
			die_nomem();
	}
	if (helo.len == 0 || control_lines("smtproutes", &routes) < 0 || control_lines("remotetls", &tlslines) < 0 ||
	    control_num("timeoutconnect", &tc, 60) < 0 || control_num("timeoutremote", &tr, 1200) < 0) {
		all('Z', "unable to read the control files (4.3.0)");
		finish();
	}
	/* DNS, and with it the control files' lines, know a domain written in
	 * UTF-8 (SMTPUTF8) by its A-labels, RFC 5890 (src/lib/idna.h) */
	name = domain;
	nlen = dlen;
	if (domain[0] != '[' && utf8_has_high(domain, dlen)) {
		r = idna_to_ascii(domain, dlen, &alabels);
		if (r == IDNA_NOMEM)
			die_nomem();
		if (r == IDNA_BAD) {
			idn_bad = 1; /* a route may still name it as written; DNS could not */
		} else {
			name = alabels.s;
			nlen = alabels.len;
		}
	}
	if (lines_to_alabels(&routes) < 0 || lines_to_alabels(&tlslines) < 0)
		die_nomem();
	/* a malformed line defers every domain: a misspelt policy must not
	 * send anything in clear, nor be missed until it would */
	if (!tls_policy_find(&tlslines, name, nlen, &pol, &bad)) {
		struct logline l = { STR_INIT };
		log_begin(&l, "config_error");
		log_kv(&l, "qid", ones[0].j.qid);
		log_kv(&l, "file", "control/remotetls");
		log_kv(&l, "line", bad);
		log_kv(&l, "reason", "not DOMAIN:POLICY with POLICY none, may, encrypt, verify, dane, sts or dane-sts");
		log_end(&l);
		all('Z', "malformed line in control/remotetls (4.3.5)");
		finish();
	}
	if (pol == TLS_DANE || pol == TLS_DANE_STS)
		dns_one_resolver(); /* before the first query */
	for (i = 0; i < helo.len; i++) /* a HELO name with a blank or CR would break the command */
		if ((unsigned char)helo.s[i] <= 0x20 || helo.s[i] == 0x7f)
			helo.s[i] = '-';
	for (k = 0; k < nones; k++) {
		ones[k].j.helo = helo.s;
		ones[k].j.timeout_connect = (int)(tc ? (tc > 3600 ? 3600 : tc) : 1);
		ones[k].j.timeout_remote = (int)(tr ? (tr > 86400 ? 86400 : tr) : 1);
		ones[k].j.tls = pol;
	}

	/* Where to: a route, an address literal, or the MX records. */
	r = route_find(&routes, name, nlen, &rt);
	if (r < 0)
		die_nomem();
	if (r == 0) {
		all('Z', "malformed line in control/smtproutes (4.3.5)");
		finish();
	}
	if (rt.found && rt.host.len) {
		if (rt.host.s[0] == '[') {
			if (!addr_literal(rt.host.s + 1, rt.host.len - 2, addrs)) {
				all('Z', "bad address literal in control/smtproutes (4.3.5)");
				finish();
			}
			addrs[0].port = rt.port;
			addrs[0].named = 1;
			memcpy(addrs[0].host, rt.host.s, rt.host.len + 1);
			naddr = 1;
		} else if (utf8_has_high(rt.host.s, rt.host.len) && !smarthost_alabels(&rt.host)) {
			all('Z', "the smarthost in control/smtproutes is no valid name (4.3.5)");
			finish();
		} else if (dns_addrs(rt.host.s, rt.port, 1, addrs, ADDRS_MAX, &naddr) == DNS_TEMP) {
			all('Z', "temporary DNS failure looking up the smarthost (4.4.3)");
			finish();
		}
		if (!naddr) {
			all('Z', "the smarthost in control/smtproutes has no address (4.4.3)");
			finish();
		}
		smarthost_auth(&rt, pol);
	} else if (domain[0] == '[') {
		if (domain[dlen - 1] != ']' || !addr_literal(domain + 1, dlen - 2, addrs)) {
			all('D', "bad address literal (5.1.2)");
			finish();
		}
		addrs[0].port = 25;
		memcpy(addrs[0].host, domain, dlen + 1);
		naddr = 1;
	} else {
		if (idn_bad) {
			all('D', "the domain is not a valid internationalized domain name (5.1.2)");
			finish();
		}
		switch (dns_mx(name, mxs, HOSTS_MAX, &nmx, &names_secure)) {
		case DNS_NULLMX:
			all('D', "the domain does not accept mail: null MX, RFC 7505 (5.1.10)");
			finish();
		case DNS_NXDOMAIN:
			all('D', "the domain does not exist in DNS (5.1.2)");
			finish();
		case DNS_TEMP:
			all('Z', "temporary DNS failure looking up MX records (4.4.3)");
			finish();
		case DNS_NODATA: /* RFC 5321 5.1: the domain itself is the MX */
			if (nlen > 253)
				die(100, "fatal: bad domain");
			names_secure = 1; /* the name is the recipient's, not an answer's */
			memcpy(mxs[0].name, name, nlen + 1);
			mxs[0].pref = 0;
			nmx = 1;
			break;
		case DNS_OK:
			break;
		}
		for (k = 0; k < nmx && naddr < ADDRS_MAX; k++) {
			size_t before = naddr;
			enum dns_result dr = dns_addrs(mxs[k].name, 25, 0, addrs, ADDRS_MAX, &naddr);
			if (dr == DNS_TEMP && naddr == before && !why.len &&
			    !str_cats(&why, "temporary DNS failure looking up an MX host (4.4.3)"))
				die_nomem();
		}
		/* addresses of this host would loop the message back to us */
		for (i = k = 0; i < naddr; i++)
			if (addr_is_local(addrs + i))
				skipped++;
			else
				addrs[k++] = addrs[i];
		naddr = k;
		if (!naddr) {
			if (skipped)
				all('D', "mail loop: an MX of the domain is this host (5.4.6)");
			else
				all('Z', why.len ? why.s : "no address found for the domain's MX hosts (4.4.4)");
			finish();
		}
	}

	if (pol == TLS_DANE || pol == TLS_DANE_STS)
		dane_plan(addrs, naddr, names_secure, ones[0].j.qid);
	/* dane-sts: MTA-STS for the hosts DANE found nothing for (RFC 8461 2) */
	if ((pol == TLS_STS || pol == TLS_DANE_STS) &&
	    sts_plan(addrs, &naddr, name, !(rt.found && rt.host.len) && domain[0] != '[', pol == TLS_DANE_STS,
	             ones[0].j.qid, &why)) {
		all('Z', why.s);
		finish();
	}

	/* Each address in turn, with every message not yet settled: one
	 * connection carries as many as it can (smtp_session). */
	for (i = 0; i < naddr && !settled(); i++) {
		char ip[64];
		size_t n = 0;
		why.len = 0;
		addr_fmt(addrs + i, ip, sizeof ip);
		for (k = 0; k < nones; k++) {
			if (job_settled(&ones[k].j))
				continue;
			ones[k].host.len = ones[k].ip.len = 0;
			if (!str_cats(&ones[k].host, addrs[i].host) || !str_cats(&ones[k].ip, ip))
				die_nomem();
			/* what the attempt line says of MTA-STS testing is this
			 * address's: a host the policy does not name is known as
			 * such before it answers; smtp.c adds what TLS showed */
			ones[k].j.sts_testing = addrs[i].sts_testing;
			ones[k].j.sts_failure[0] = 0;
			if (addrs[i].sts_testing && !addrs[i].sts_named)
				memcpy(ones[k].j.sts_failure, "mx not in policy", sizeof "mx not in policy");
			js[n++] = &ones[k].j;
		}
		r = smtp_session(js, n, addrs + i, &why, report_settled);
		if (r == 0)
			continue;
		{
			struct logline l = { STR_INIT };
			text_clean(&why);
			log_begin(&l, "host_failed");
			log_kv(&l, "qid", js[0]->qid);
			log_kv(&l, "mx", addrs[i].host);
			log_kv(&l, "ip", ip);
			log_kvb(&l, "reason", why.s ? why.s : "", why.len);
			log_end(&l);
		}
		if (r == 2)
			break;
	}
	auth_wipe(&creds);
	text_clean(&why);
	for (k = written; k < nones; k++) {
		struct one *o = ones + k;
		if (!job_settled(&o->j)) {
			one_all(o, 'Z', why.len ? why.s : "no host could be reached (4.4.1)");
			if (o->j.talked)
				o->msgstatus = 'K';
		} else
			one_sent(o);
	}
	finish();
}
