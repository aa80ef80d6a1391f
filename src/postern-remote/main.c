/* postern-remote: delivers one message to the recipients of one domain
 * over SMTP and reports one result per recipient.  Started by
 * postern-rspawn as postern-remote with the queued message on fd 0 and a
 * pipe on fd 1 (doc/postern-remote.8, doc/pipes.md); writes nothing on
 * disk, runs nothing, and treats DNS answers and server replies as
 * hostile. */
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
#include "control.h"
#include "die.h"
#include "envelope.h"
#include "fmt.h"
#include "log.h"
#include "uniq.h"

#define USAGE "postern-remote domain sender qid recipient..."

static struct job j;
static char msgstatus = 'Z';
static struct str msgtext = STR_INIT;
static struct str used_host = STR_INIT, used_ip = STR_INIT;
static struct creds creds;

static int high(const char *s, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return 1;
	return 0;
}

/* Every recipient not yet settled gets st and text; the message too. */
static void all(char st, const char *text)
{
	size_t i;
	for (i = 0; i < j.n; i++)
		if (!j.st[i]) {
			j.st[i] = st;
			j.text[i].len = 0;
			if (!str_cats(&j.text[i], text))
				die_nomem();
		}
	msgstatus = st;
	msgtext.len = 0;
	if (!str_cats(&msgtext, text))
		die_nomem();
}

/* One record per recipient, then the message's: STATUS TEXT \0 each
 * (doc/pipes.md, "postern-remote -> postern-rspawn"). */
static _Noreturn void finish(void)
{
	struct str out = STR_INIT;
	unsigned long long now = (unsigned long long)time(0), arr = qid_time(j.qid, strlen(j.qid));
	size_t i;

	auth_wipe(&creds);
	for (i = 0; i < j.n; i++) {
		struct logline l = { STR_INIT };
		size_t tl = j.text[i].len > TEXT_MAX ? TEXT_MAX : j.text[i].len;
		char st = j.st[i] ? j.st[i] : 'Z';
		if (!str_catc(&out, st) || !str_catb(&out, j.text[i].s ? j.text[i].s : "", tl) ||
		    !str_catz(&out))
			die_nomem();
		log_begin(&l, "attempt");
		log_kv(&l, "qid", j.qid);
		log_kvb(&l, "to", j.rcpt[i], j.rcpt_len[i]);
		log_kvb(&l, "mx", used_host.s ? used_host.s : "", used_host.len);
		log_kvb(&l, "ip", used_ip.s ? used_ip.s : "", used_ip.len);
		log_kv(&l, "status", st == 'K' ? "delivered" : st == 'D' ? "failed" : "deferred");
		log_kvb(&l, "reply", j.text[i].s ? j.text[i].s : "", tl);
		log_kvu(&l, "delay", now > arr ? now - arr : 0);
		log_end(&l);
	}
	if (!str_catc(&out, msgstatus) ||
	    !str_catb(&out, msgtext.s ? msgtext.s : "", msgtext.len > TEXT_MAX ? TEXT_MAX : msgtext.len) ||
	    !str_catz(&out))
		die_nomem();
	if (write_all(1, out.s, out.len) == -1)
		die_sys(111, "fatal: unable to report the results");
	_exit(0);
}

static void text_clean(struct str *t)
{
	size_t i;
	for (i = 0; i < t->len; i++)
		if ((unsigned char)t->s[i] < 0x20 || t->s[i] == 0x7f)
			t->s[i] = ' ';
}

static int settled(void)
{
	size_t i;
	for (i = 0; i < j.n; i++)
		if (!j.st[i])
			return 0;
	return 1;
}

/* Credentials go only to a host a route names, never to one found in
 * DNS, and (until outbound STARTTLS exists) only to a host the admin
 * listed in control/smtpauthplaintext: otherwise the job defers without
 * connecting, so nothing is sent. */
static void smarthost_auth(const struct route *rt)
{
	struct str why = STR_INIT, plain = STR_INIT;
	int r = auth_load(rt->host.s, rt->host.len, &creds, &why);

	if (r == -2)
		die_nomem();
	if (r == -1) {
		struct logline l = { STR_INIT };
		log_begin(&l, "auth_refused");
		log_kv(&l, "qid", j.qid);
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
	/* no core file and no ptrace by other users of this uid's programs
	 * while a password is in memory.  (Not in a sanitizer build: the
	 * leak checker stops the process with ptrace, which this forbids.) */
#ifndef __SANITIZE_ADDRESS__
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
#endif
	if (control_lines("smtpauthplaintext", &plain) < 0) {
		all('Z', "unable to read control/smtpauthplaintext (4.3.0)");
		finish();
	}
	if (!auth_plaintext_ok(&plain, rt->host.s, rt->host.len)) {
		struct logline l = { STR_INIT };
		static const char e[] = "credentials not sent: outbound TLS is not built yet and the "
		                        "smarthost is not in control/smtpauthplaintext (4.7.0)";
		log_begin(&l, "auth_refused");
		log_kv(&l, "qid", j.qid);
		log_kv(&l, "mx", rt->host.s);
		log_kv(&l, "reason", e);
		log_end(&l);
		all('Z', e);
		finish();
	}
	str_free(&plain);
	j.auth = &creds;
}

int main(int argc, char **argv)
{
	static struct addr addrs[ADDRS_MAX];
	static struct mx mxs[HOSTS_MAX];
	struct route rt = { 0, STR_INIT, 25 };
	struct str routes = STR_INIT, helo = STR_INIT, why = STR_INIT;
	unsigned long long tc, tr;
	const char *domain;
	size_t dlen, naddr = 0, nmx = 0, skipped = 0, i, k;
	struct stat st;
	int r;

	progname = "postern-remote";
	if (argc < 5 || argc - 4 > RCPT_MAX)
		die_usage(USAGE);
	signal(SIGPIPE, SIG_IGN);
	domain = argv[1];
	dlen = strlen(domain);
	if (!domain_check(domain, dlen))
		die(100, "fatal: bad domain");
	if (envelope_sender_ok(argv[2], strlen(argv[2])) != ENV_OK || !qid_valid(argv[3], strlen(argv[3])))
		die(100, "fatal: bad sender or queue id");
	j.qid = argv[3];
	j.sender = argv[2];
	j.sender_len = strlen(argv[2]);
	if (j.sender_len == 4 && memcmp(j.sender, "#@[]", 4) == 0)
		j.sender_len = 0; /* the double-bounce marker goes out as <> */
	j.n = (size_t)argc - 4;
	for (i = 0; i < j.n; i++) {
		const char *a = argv[4 + i];
		size_t n = strlen(a), at = addr_at(a, n);
		if (addr_check(a, n) != ADDR_OK || n - at - 1 != dlen || !case_eqn(a + at + 1, domain, dlen))
			die(100, "fatal: bad recipient or not of the domain");
		j.rcpt[i] = a;
		j.rcpt_len[i] = n;
		j.utf8 |= high(a, n);
	}
	j.utf8 |= high(j.sender, j.sender_len);

	if (fstat(0, &st) == -1 || !S_ISREG(st.st_mode))
		die_sys(111, "fatal: no message on fd 0");
	j.msglen = (size_t)st.st_size;
	j.msg = "";
	if (j.msglen) {
		void *p = mmap(0, j.msglen, PROT_READ, MAP_PRIVATE, 0, 0);
		if (p == MAP_FAILED)
			die_sys(111, "fatal: unable to map the message");
		j.msg = p;
	}
	j.eightbit = high(j.msg, j.msglen);

	if (control_line("helohost", &helo) == 0 && control_line("me", &helo) == 0) {
		char h[256];
		if (gethostname(h, sizeof h - 1) == -1)
			h[0] = 0;
		h[sizeof h - 1] = 0;
		if (!str_copys(&helo, h[0] ? h : "localhost"))
			die_nomem();
	}
	if (helo.len == 0 || control_lines("smtproutes", &routes) < 0 ||
	    control_num("timeoutconnect", &tc, 60) < 0 || control_num("timeoutremote", &tr, 1200) < 0) {
		all('Z', "unable to read the control files (4.3.0)");
		finish();
	}
	for (i = 0; i < helo.len; i++) /* a HELO name with a blank or CR would break the command */
		if ((unsigned char)helo.s[i] <= 0x20 || helo.s[i] == 0x7f)
			helo.s[i] = '-';
	j.helo = helo.s;
	j.timeout_connect = (int)(tc ? (tc > 3600 ? 3600 : tc) : 1);
	j.timeout_remote = (int)(tr ? (tr > 86400 ? 86400 : tr) : 1);

	/* Where to: a route, an address literal, or the MX records. */
	r = route_find(&routes, domain, dlen, &rt);
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
		} else if (dns_addrs(rt.host.s, rt.port, 1, addrs, ADDRS_MAX, &naddr) == DNS_TEMP) {
			all('Z', "temporary DNS failure looking up the smarthost (4.4.3)");
			finish();
		}
		if (!naddr) {
			all('Z', "the smarthost in control/smtproutes has no address (4.4.3)");
			finish();
		}
		smarthost_auth(&rt);
	} else if (domain[0] == '[') {
		if (domain[dlen - 1] != ']' || !addr_literal(domain + 1, dlen - 2, addrs)) {
			all('D', "bad address literal (5.1.2)");
			finish();
		}
		addrs[0].port = 25;
		memcpy(addrs[0].host, domain, dlen + 1);
		naddr = 1;
	} else {
		switch (dns_mx(domain, mxs, HOSTS_MAX, &nmx)) {
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
			if (dlen > 253)
				die(100, "fatal: bad domain");
			memcpy(mxs[0].name, domain, dlen + 1);
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

	/* Try each address until the recipients are settled. */
	for (i = 0; i < naddr && !settled(); i++) {
		char ip[64];
		why.len = 0;
		addr_fmt(addrs + i, ip, sizeof ip);
		used_host.len = used_ip.len = 0;
		if (!str_cats(&used_host, addrs[i].host) || !str_cats(&used_ip, ip))
			die_nomem();
		r = smtp_attempt(&j, addrs + i, &why);
		if (r == 0)
			break;
		{
			struct logline l = { STR_INIT };
			text_clean(&why);
			log_begin(&l, "host_failed");
			log_kv(&l, "qid", j.qid);
			log_kv(&l, "mx", addrs[i].host);
			log_kv(&l, "ip", ip);
			log_kvb(&l, "reason", why.s ? why.s : "", why.len);
			log_end(&l);
		}
		if (r == 2)
			break;
	}
	auth_wipe(&creds);
	for (i = 0; i < j.n; i++)
		text_clean(&j.text[i]);
	if (!settled()) {
		text_clean(&why);
		all('Z', why.len ? why.s : "no host could be reached (4.4.1)");
		if (j.talked)
			msgstatus = 'K';
		finish();
	}
	msgstatus = 'K';
	msgtext.len = 0;
	if (!str_cats(&msgtext, "sent to ") || !str_cat(&msgtext, &used_host) ||
	    !str_cats(&msgtext, " [") || !str_cat(&msgtext, &used_ip) || !str_catc(&msgtext, ']'))
		die_nomem();
	finish();
}
