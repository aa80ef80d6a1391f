/* postern-smtpd: receives mail over SMTP (RFC 5321) for one connection and
 * hands each message to postern-queue.
 *
 * usage: postern-smtpd [-a] [-s]   (under a UCSPI server such as postern-listen,
 *                                   or as `sendmail -bs` with no TCP environment)
 *
 *   -a  submission (RFC 6409): AUTH PLAIN and LOGIN (RFC 4954), and mail
 *       only from a client that has authenticated, to any domain
 *   -s  implicit TLS (RFC 8314): the handshake before the greeting
 *
 * It runs as user postern-smtpd, holds no secret, writes no file, reads
 * only control/ and HOME/users/rcpt.cdb (and /etc/resolv.conf, when
 * control/ names DNS checks: dnsbl.c, senderdns.c), asks postern-srs about
 * a RCPT to an SRS address (srs.c), and may only exec postern-queue.  For
 * STARTTLS it uses a UCSPI-TLS helper, its own (SSLCTLFD) or one it asks
 * postern-tlsd for (tls.c, doc/tls.md): no TLS code and no key here.  For
 * AUTH it asks postern-auth whether the password is right (doc/pop3.md):
 * no password file here either.
 * Behaviour, reply codes and limits: doc/smtp.md and postern-smtpd(8). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "smtpd.h"
#include "parse.h"
#include "sasl.h"
#include "addr.h"
#include "authask.h"
#include "case.h"
#include "die.h"
#include "fmt.h"
#include "io.h"
#include "remoteip.h"
#include "log.h"
#include "uniq.h"

#define CMD_MAX 512        /* RFC 5321 4.5.3.1.4, CRLF included */
/* RFC 1870 3 and RFC 3461 4 let MAIL and RCPT lines grow by their parameters:
 * SIZE=, BODY=, SMTPUTF8, then " RET=HDRS ENVID=" and its value on MAIL;
 * NOTIFY= and ORCPT= on RCPT */
#define MAIL_EXTRA (80 + 16 + DSN_ENVID_MAX)
#define RCPT_EXTRA DSN_PARAMS_MAX
#define READ_MAX 4096      /* longer lines are discarded unread into memory */
_Static_assert(SASL_LINE_MAX < READ_MAX, "an AUTH line is read whole");
#define AUTH_FAILURES_MAX 3 /* wrong passwords before the session ends */
#define AUTH_PAUSE_S 2      /* after each: guesses cost time */
#define AUTH_TOO_LONG "500 5.5.6 authentication exchange line is too long"

struct client client;
static struct io in, out;
static char inbuf[65536], outbuf[8192];
static char body_out[sizeof inbuf + 1];

/* session */
static struct str line, helo, sender, envelope, rcpt1;
static int seen_helo, ehlo, in_mail, utf8;
static int bdat_mode;   /* the transaction's message has begun with BDAT */
static int bdat_failed; /* chunks of a refused BDAT message may still come */
static int mail_refused; /* the last MAIL was refused: its chunks may still come */
static unsigned long long nrcpt, errors, messages, declared;
static int too_many_logged;
static int limit_logged; /* the sending limit's refusal, logged once a session */
static time_t started;
static const char *tls_proto = ""; /* "S" once TLS is up: ESMTPS */
static struct tls_report tls;        /* the engine's protocol, cipher and SNI */
static volatile sig_atomic_t alarm_fd = 1; /* where on_alarm says goodbye */
static int tls_unavailable; /* STARTTLS already answered 454 this session */
static const char *auth_proto = "";  /* "A" after AUTH: ESMTPA */
static struct str auth_user;         /* who authenticated, for the log */
static unsigned auth_failures;
static int dsn_ret;           /* the transaction's RET, for its log line */
static struct str dsn_envid;  /* and its ENVID (xtext), empty if none */

/* A password may travel in clear only over loopback, or where the admin
 * says so (control/submissionplaintext). */
static int auth_allowed(void) { return tls_proto[0] || client.loopback || cfg.plaintext; }

/* replies */
static void flush_out(void)
{
	if (io_flush(&out) == -1)
		_exit(0); /* the client is gone or stuck: nothing left to say */
}

static void reply(const char *s)
{
	if (io_puts(&out, s) == -1 || io_put(&out, "\r\n", 2) == -1)
		_exit(0);
}

static void disconnect(const char *why)
{
	struct logline l = { STR_INIT };
	/* a message cut off here is reaped, not left to finish after us */
	queue_abort();
	log_begin(&l, "disconnect");
	log_kv(&l, "ip", client.ip);
	log_kvu(&l, "messages", messages);
	log_kvu(&l, "errors", errors);
	log_kvu(&l, "seconds", (unsigned long long)(time(0) - started));
	log_kv(&l, "why", why);
	log_end(&l);
	(void)io_flush(&out);
	_exit(0);
}

static void say_me(const char *code, const char *text)
{
	struct str s = STR_INIT;
	if (!str_cats(&s, code) || !str_catc(&s, ' ') || !str_cat(&s, &cfg.me) || !str_catc(&s, ' ') ||
	    !str_cats(&s, text))
		die_nomem();
	reply(s.s);
	str_free(&s);
}

/* Every refusal the client caused counts; after maxerrors the session ends. */
static void error_reply(const char *s)
{
	reply(s);
	if (++errors >= cfg.maxerrors) {
		say_me("421 4.7.0", "too many errors; closing connection");
		disconnect("too many errors");
	}
}

/* A refusal of a message: a 5xx is the client's error, a 4xx is ours. */
static void refusal_reply(const char *r)
{
	if (r[0] == '5')
		error_reply(r);
	else
		reply(r);
}

static void on_alarm(int sig)
{
	static const char m[] = "421 4.4.2 session time limit exceeded; closing connection\r\n";
	(void)sig;
	(void)!write(alarm_fd, m, sizeof m - 1);
	_exit(0);
}

/* Ends the mail transaction, whatever state it is in: a message still on
 * its way to postern-queue (BDAT chunks without the LAST) is abandoned, so
 * that no postern-queue outlives the transaction it was started for. */
static void reset_mail(void)
{
	queue_abort();
	in_mail = utf8 = bdat_mode = bdat_failed = mail_refused = 0;
	nrcpt = declared = 0;
	too_many_logged = 0;
	sender.len = envelope.len = rcpt1.len = dsn_envid.len = 0;
	dsn_ret = 0;
}

static void timed_out(void)
{
	say_me("421 4.4.2", "timeout; closing connection");
	disconnect("timeout");
}

/* Fills the input buffer; ends the session on EOF, timeout or error. */
static void fill(void)
{
	ssize_t r;
	flush_out();
	r = io_fill(&in);
	if (r > 0)
		return;
	if (r == -1 && errno == ETIMEDOUT)
		timed_out();
	disconnect(r == 0 ? "eof" : "read error");
}

/* After a BDAT line we could not take, the chunk's length is unknown and
 * its bytes would be read as commands (a way to smuggle them past whatever
 * judged the chunk): the stream cannot be followed. */
static void bad_bdat(void)
{
	say_me("421 4.5.0", "cannot continue after a bad BDAT; closing connection");
	disconnect("bad BDAT");
}

/* A command line refused; bdat: it announced a chunk. */
static int refuse_line(const char *r, int bdat)
{
	error_reply(r);
	if (bdat)
		bad_bdat();
	return 1;
}

/* Wipes what may hold a password after AUTH: line, the input read
 * already, and what an earlier fill left past the end. */
static void wipe_read(void)
{
	explicit_bzero(line.s, line.cap);
	explicit_bzero(in.buf, in.pos);
	explicit_bzero(in.buf + in.len, in.cap - in.len);
}

/* 1 when line starts with the word AUTH (any case): a line that may
 * hold a password, even one refused before it was parsed. */
static int line_is_auth(void)
{
	return line.len >= 4 && case_eqb(line.s, 4, "auth", 4) &&
	       (line.len == 4 || line.s[4] == ' ' || line.s[4] == '\r' || line.s[4] == '\n');
}

/* Reads one line, CRLF and all, into line: 1, or 0 when it was longer
 * than max and was read to its end without being kept (*bdat then says
 * whether its start announced a chunk, *auth whether it was AUTH's).  Ends the session on EOF,
 * timeout or error. */
static int read_line(size_t max, int *bdat, int *auth)
{
	int r;

	line.len = 0;
	if (!io_buffered(&in))
		flush_out();
	r = io_getline(&in, &line, '\n', max);
	if (r == -2) {
		*bdat = line_is_bdat(line.s, line.len);
		*auth = line_is_auth();
		do {
			line.len = 0;
			r = io_getline(&in, &line, '\n', max);
		} while (r == -2);
		if (r == 1)
			return 0;
	}
	if (r == 0)
		disconnect("eof");
	if (r == -1) {
		if (errno == ETIMEDOUT)
			timed_out();
		disconnect("read error");
	}
	return 1;
}

/* Reads one command into line (without CRLF).  0: a clean line; 1: the line
 * was refused and answered already. */
static int get_command(enum verb *v, size_t *arg)
{
	int bdat = 0, auth = 0;
	size_t limit;
	const char *r = 0;

	if (!read_line(READ_MAX, &bdat, &auth)) {
		r = auth ? AUTH_TOO_LONG : "500 5.5.2 line too long";
		goto refused;
	}
	bdat = line_is_bdat(line.s, line.len);
	auth = line_is_auth();
	if (line.len < 2 || line.s[line.len - 2] != '\r') {
		r = "500 5.5.2 bare LF in command: lines end with CRLF (RFC 5321 2.3.8)";
		goto refused;
	}
	line.len -= 2;
	line.s[line.len] = 0;
	if (line_bad_bytes(line.s, line.len)) {
		r = "500 5.5.2 NUL, CR or control character in command";
		goto refused;
	}
	*v = parse_verb(line.s, line.len, arg);
	limit = *v == V_AUTH ? SASL_LINE_MAX
	                     : CMD_MAX + (*v == V_MAIL ? MAIL_EXTRA : *v == V_RCPT ? RCPT_EXTRA : 0);
	if (line.len + 2 > limit) {
		r = *v == V_AUTH ? AUTH_TOO_LONG : "500 5.5.2 line too long";
		goto refused;
	}
	if (*v == V_UNKNOWN && bdat) { /* "BDAT\t5": the verb ended by no space */
		r = "501 5.5.4 syntax: BDAT size [LAST]";
		goto refused;
	}
	return 0;
refused:
	/* a refused AUTH line may hold a password all the same */
	if (auth)
		wipe_read();
	return refuse_line(r, bdat);
}

/* why, when not NULL, says more than the reply does */
static void log_reject_why(const char *what, const char *addr, size_t n, const char *r, const char *why)
{
	struct logline l = { STR_INIT };
	log_begin(&l, "reject");
	log_kv(&l, "ip", client.ip);
	log_kvb(&l, "from", sender.s ? sender.s : "", sender.len);
	log_kvb(&l, what, addr, n);
	log_kv(&l, "reply", r);
	if (why)
		log_kv(&l, "why", why);
	log_end(&l);
}

static void log_reject(const char *what, const char *addr, size_t n, const char *r)
{
	log_reject_why(what, addr, n, r, 0);
}

/* The 550 for an address in control/srsdomain that is not one of ours,
 * or no longer: it names the address, as the client may have sent many. */
static const char *srs_refusal(const struct str *addr, int expired)
{
	static struct str s;
	if (!str_copys(&s, "550 5.1.1 <") || !str_cat(&s, addr) ||
	    !str_cats(&s, expired ? ">: SRS address expired" : ">: not a valid SRS address here"))
		die_nomem();
	return s.s;
}

/* A recipient that was an SRS address: the one it was, and the one it
 * stands for, which the envelope holds. */
static void log_srs(const struct str *given, const struct str *reversed)
{
	struct logline l = { STR_INIT };
	log_begin(&l, "srs");
	log_kv(&l, "ip", client.ip);
	log_kvb(&l, "from", sender.s ? sender.s : "", sender.len);
	log_kvb(&l, "rcpt", given->s, given->len);
	log_kvb(&l, "reversed", reversed->s, reversed->len);
	log_end(&l);
}

/* A success report goes to the envelope sender, which a stranger on port
 * 25 can forge: offered to everyone, NOTIFY=SUCCESS would make this host
 * send a report to any address for each message accepted (and tell the
 * asker where mail for an address ends up).  So by default only the
 * clients postern relays for may ask, as Postfix's DSN_README advises
 * (control/dsn, doc/dsn.md). */
static int dsn_offered(void)
{
	return cfg.dsn >= 2 || (cfg.dsn == 1 && (cfg.submission || client.relay || client.local));
}

static void do_helo(const char *arg, size_t n, int e)
{
	if (!parse_helo(arg, n)) {
		error_reply(e ? "501 5.5.4 syntax: EHLO hostname" : "501 5.5.4 syntax: HELO hostname");
		return;
	}
	if (!str_copyb(&helo, arg, n))
		die_nomem();
	seen_helo = 1;
	ehlo = e;
	reset_mail();
	if (!e) {
		say_me("250", "");
		return;
	}
	{
		struct str s = STR_INIT;
		if (!str_cats(&s, "250-") || !str_cat(&s, &cfg.me) || !str_cats(&s, "\r\n250-PIPELINING\r\n"))
			die_nomem();
		if (cfg.databytes && (!str_cats(&s, "250-SIZE ") || !str_catu(&s, cfg.databytes) || !str_cats(&s, "\r\n")))
			die_nomem();
		if (!cfg.databytes && !str_cats(&s, "250-SIZE\r\n"))
			die_nomem();
		if (!tls_proto[0] && !tls_unavailable && !client.local && tls_offer() &&
		    !str_cats(&s, "250-STARTTLS\r\n"))
			die_nomem();
		if (cfg.submission && !auth_user.len && auth_allowed() && !str_cats(&s, "250-AUTH PLAIN LOGIN\r\n"))
			die_nomem();
		if (!str_cats(&s, "250-8BITMIME\r\n") || (dsn_offered() && !str_cats(&s, "250-DSN\r\n")) ||
		    !str_cats(&s, "250-ENHANCEDSTATUSCODES\r\n250-SMTPUTF8\r\n250 CHUNKING"))
			die_nomem();
		reply(s.s);
		str_free(&s);
	}
}

static void do_mail(const char *arg, size_t n)
{
	struct path p = { STR_INIT, 0, 0, 0 };
	size_t rest, pos;
	const char *k, *val;
	size_t kl, vl;
	int r, seen_size = 0, seen_body = 0, seen_utf8 = 0, seen_auth = 0;
	struct dsn_args dsn;

	if (!seen_helo) {
		error_reply("503 5.5.1 send HELO or EHLO first");
		return;
	}
	if (in_mail) {
		error_reply("503 5.5.1 nested MAIL command");
		return;
	}
	spf_forget(); /* the last transaction's Received-SPF */
	if (cfg.submission && !auth_user.len && !client.local) {
		error_reply("530 5.7.0 authentication required");
		goto out;
	}
	r = parse_path(arg, n, "from:", &p, &rest);
	switch (r) {
	case P_OK: break;
	case P_TOOLONG: error_reply("501 5.1.7 sender address too long"); goto out;
	case P_ROUTE: error_reply("553 5.1.7 source routes are not accepted"); goto out;
	case P_QUOTEDAT: case P_QUOTED: error_reply("553 5.1.7 quoted local parts are not accepted"); goto out;
	default: error_reply("501 5.1.7 syntax: MAIL FROM:<address>"); goto out;
	}
	if (p.addr.len && (p.at == p.addr.len || addr_check(p.addr.s, p.addr.len) != ADDR_OK)) {
		error_reply("501 5.1.7 bad sender address");
		goto out;
	}
	pos = rest;
	utf8 = 0;
	declared = 0; /* not a refused MAIL's SIZE= */
	dsn_args_init(&dsn);
	while ((r = parse_param(arg, n, &pos, &k, &kl, &val, &vl)) == 1) {
		const char *why;
		int d;
		if (!ehlo) {
			error_reply("555 5.5.4 parameters need EHLO");
			goto out;
		}
		if (dsn_offered() && (d = dsn_arg_take(&dsn, 0, k, kl, val, vl, &why)) != 0) {
			if (d == -1) {
				error_reply(why);
				goto out;
			}
		} else if (word_is(k, kl, "size") && !seen_size++) {
			if (!val || !scan_ulong_all(val, vl, &declared)) {
				error_reply("501 5.5.4 syntax: SIZE=number");
				goto out;
			}
			if (cfg.databytes && declared > cfg.databytes) {
				error_reply("552 5.3.4 message size exceeds fixed maximum message size");
				goto out;
			}
		} else if (word_is(k, kl, "body") && !seen_body++) {
			if (!val || !(word_is(val, vl, "7bit") || word_is(val, vl, "8bitmime"))) {
				error_reply("555 5.5.4 BODY must be 7BIT or 8BITMIME");
				goto out;
			}
		} else if (word_is(k, kl, "smtputf8") && !seen_utf8++) {
			if (val) {
				error_reply("501 5.5.4 SMTPUTF8 takes no value");
				goto out;
			}
			utf8 = 1;
		} else if (cfg.submission && word_is(k, kl, "auth") && !seen_auth++) {
			/* RFC 4954 5: the identity a relay vouches for; we trust
			 * no client's word for it, so it is checked and dropped */
			if (!val || !xtext_ok(val, vl)) {
				error_reply("501 5.5.4 syntax: AUTH=xtext");
				goto out;
			}
		} else {
			error_reply("555 5.5.4 unsupported or repeated MAIL parameter");
			goto out;
		}
	}
	if (r == -1) {
		error_reply("501 5.5.4 syntax error in MAIL parameters");
		goto out;
	}
	if (p.utf8 && !utf8) {
		error_reply("553 5.6.7 non-ASCII address needs the SMTPUTF8 parameter");
		goto out;
	}
	{
		const char *why = room_refusal(declared);
		if (why) {
			reply(why); /* no fault of the client's */
			goto out;
		}
	}
	/* a stranger's bounce address must be one a bounce can reach */
	if (cfg.senderdomaincheck && p.addr.len && dns_stranger("SENDERDNSSKIP")) {
		const char *why = sender_domain_refusal(p.addr.s + p.at + 1, p.addr.len - p.at - 1);
		if (why) {
			log_reject("sender", p.addr.s, p.addr.len, why);
			refusal_reply(why);
			goto out;
		}
	}
	/* may the client use its HELO name, and send the sender domain's
	 * mail (RFC 7208)? */
	if ((cfg.spf || cfg.spfhelo) && dns_stranger("SPFSKIP")) {
		const char *why = spf_refusal(p.addr.s, p.addr.len, helo.s);
		if (why) {
			log_reject("sender", p.addr.s, p.addr.len, why);
			refusal_reply(why);
			goto out;
		}
	}
	if (cfg.submission && auth_user.len && cfg.senders &&
	    (r = sender_owned(auth_user.s, auth_user.len, p.addr.s, p.addr.len, p.at)) != 1) {
		const char *why = r == 0 ? "553 5.7.1 sender address not owned by the authenticated user"
		                         : "451 4.3.0 unable to check the sender address now; try again later";
		log_reject("sender", p.addr.s, p.addr.len, why);
		if (r == 0)
			error_reply(why);
		else
			reply(why);
		goto out;
	}
	if (!str_copyb(&sender, p.addr.s, p.addr.len) || !str_copys(&envelope, "F") ||
	    !str_cat(&envelope, &sender) || !str_catz(&envelope) || !dsn_records_cat(&envelope, &dsn, 0) ||
	    !str_copyb(&dsn_envid, dsn.envid, dsn.envid_len))
		die_nomem();
	dsn_ret = dsn.ret;
	in_mail = 1;
	bdat_failed = 0; /* a new transaction: no more chunks of a refused one */
	rhsbl_start(p.addr.s + p.at + (p.addr.len ? 1 : 0), p.addr.len ? p.addr.len - p.at - 1 : 0);
	reply("250 2.1.0 sender ok");
out:
	/* a pipelining client sent its message's chunks behind this MAIL
	 * (RFC 2920): they are answered, not counted as its errors */
	mail_refused = !in_mail;
	str_free(&p.addr);
}

static void do_rcpt(const char *arg, size_t n)
{
	static struct str srs_to; /* the address an SRS recipient stands for */
	static struct str srs_orcpt; /* and the one the client wrote, for DSN */
	struct path p = { STR_INIT, 0, 0, 0 };
	const struct str *to = &p.addr; /* what the envelope gets */
	size_t rest, pos;
	const char *k, *val, *r, *why = 0;
	size_t kl, vl;
	int pr;
	enum srs_verdict srs;
	struct dsn_args dsn;

	if (!in_mail) {
		/* behind a refused MAIL, a pipelining client's RCPTs (RFC 2920)
		 * are answered, not counted: the refusal was */
		if (mail_refused)
			reply("503 5.5.1 need MAIL before RCPT");
		else
			error_reply("503 5.5.1 need MAIL before RCPT");
		return;
	}
	if (bdat_mode) {
		/* the envelope closed when the message began to arrive */
		error_reply("503 5.5.1 RCPT after BDAT");
		return;
	}
	pr = parse_path(arg, n, "to:", &p, &rest);
	switch (pr) {
	case P_OK: break;
	case P_TOOLONG: r = "501 5.1.3 recipient address too long"; goto refuse;
	case P_ROUTE: r = "553 5.7.1 source routes are not accepted"; goto refuse;
	case P_QUOTEDAT: r = "553 5.7.1 quoted local parts with @ are not accepted"; goto refuse;
	case P_QUOTED: r = "553 5.1.3 quoted local parts are not accepted"; goto refuse;
	default: r = "501 5.1.3 syntax: RCPT TO:<address>"; goto refuse;
	}
	pos = rest;
	dsn_args_init(&dsn);
	while ((pr = parse_param(arg, n, &pos, &k, &kl, &val, &vl)) == 1) {
		if (!ehlo) {
			r = "555 5.5.4 parameters need EHLO";
			goto refuse;
		}
		/* NOTIFY and ORCPT (RFC 3461) are the only RCPT parameters */
		pr = dsn_offered() ? dsn_arg_take(&dsn, 1, k, kl, val, vl, &r) : 0;
		if (pr != 1) {
			if (pr == 0)
				r = "555 5.5.4 unsupported RCPT parameter";
			goto refuse;
		}
	}
	if (pr == -1) {
		r = "501 5.5.4 syntax error in RCPT parameters";
		goto refuse;
	}
	if (p.addr.len == 0) {
		r = "501 5.1.3 empty recipient";
		goto refuse;
	}
	if (p.at == p.addr.len) {
		/* RFC 5321 4.5.1: <Postmaster> with no domain is ours */
		if (!word_is(p.addr.s, p.addr.len, "postmaster")) {
			r = "501 5.1.3 recipient needs a domain";
			goto refuse;
		}
		if (!str_catc(&p.addr, '@') || !str_cat(&p.addr, &cfg.me))
			die_nomem();
	}
	if (p.utf8 && !utf8) {
		r = "553 5.6.7 non-ASCII address needs the SMTPUTF8 parameter";
		goto refuse;
	}
	if (addr_check(p.addr.s, p.addr.len) != ADDR_OK) {
		r = "501 5.1.3 bad recipient address";
		goto refuse;
	}
	/* a listed client may still write to the postmaster (RFC 5321 4.5.1) */
	if ((r = dnsbl_refusal()) && !word_is(p.addr.s, p.at, "postmaster"))
		goto refuse;
	if (nrcpt >= cfg.maxrcpt) {
		reply("452 4.5.3 too many recipients");
		if (!too_many_logged++)
			log_reject("to", p.addr.s, p.addr.len, "452 4.5.3 too many recipients");
		goto out;
	}
	/* A bounce to an SRS address of ours goes back to the address it
	 * stands for, as if relaying were allowed for it: rcpthosts has no
	 * say (doc/srs.md). */
	srs = srs_rcpt(p.addr.s, p.addr.len, p.at, &srs_to, &why);
	switch (srs) {
	case SRSV_NO: break;
	case SRSV_OK: to = &srs_to; break;
	case SRSV_BAD: case SRSV_EXPIRED: r = srs_refusal(&p.addr, srs == SRSV_EXPIRED); goto refuse;
	case SRSV_TEMP:
		/* our configuration's fault, not the client's: not counted */
		r = "451 4.3.0 SRS key unavailable; try again later";
		reply(r);
		log_reject("to", p.addr.s, p.addr.len, r);
		goto out;
	}
	/* the address it stands for is judged as any recipient is, relaying
	 * aside: a signed address must not reach a local user who does not
	 * exist, nor carry a source route (doc/srs.md, "The way back") */
	{
		enum rcpt_verdict v = rcpt_policy(to->s, to->len, to == &p.addr ? p.at : addr_at(to->s, to->len));
		if (srs == SRSV_OK && v == RC_RELAY)
			v = RC_OK;
		switch (v) {
		case RC_OK: break;
		case RC_RELAY: r = "550 5.7.1 relaying denied: not a domain I accept mail for"; goto refuse;
		case RC_TRICK: r = "553 5.7.1 '%', '!' and '@' in a local part are not accepted"; goto refuse;
		case RC_LITERAL: r = "553 5.7.1 address literals for other hosts are not accepted"; goto refuse;
		case RC_UNKNOWN: r = "550 5.1.1 no such user here"; goto refuse;
		case RC_TEMP:
			reply("451 4.3.0 unable to check the recipient now; try again later");
			log_reject("to", p.addr.s, p.addr.len, "451 4.3.0");
			goto out;
		}
	}
	if (cfg.submission && cfg.sendlimit && auth_user.len) {
		int t = sendlimit_take(auth_user.s, auth_user.len);
		if (t != 1) {
			r = t == 0 ? "451 4.7.1 sending limit reached (control/submissionlimit); try again later"
			           : "451 4.3.0 unable to check the sending limit now; try again later";
			if (t == -1)
				warn_sys("warning: unable to keep the sending limit in run/sendlimit");
			if (t == -1 || !limit_logged++)
				log_reject("to", p.addr.s, p.addr.len, r);
			reply(r); /* a limit, not the client's error */
			goto out;
		}
	}
	/* a recipient rewritten here keeps the address the client gave as
	 * its original recipient, unless the client named one (RFC 3461
	 * 4.2): a report on it names what the client knows */
	if (to != &p.addr && !dsn.orcpt_len) {
		srs_orcpt.len = 0;
		if (!str_cats(&srs_orcpt, "rfc822;") || !xtext_encode(&srs_orcpt, p.addr.s, p.addr.len))
			die_nomem();
		if (dsn_orcpt_ok(srs_orcpt.s, srs_orcpt.len)) {
			dsn.orcpt = srs_orcpt.s;
			dsn.orcpt_len = srs_orcpt.len;
		}
	}
	/* N and O before the T they belong to (doc/dsn.md); maxrcpt bounds
	 * them as it bounds the T records */
	if (!dsn_records_cat(&envelope, &dsn, 1) || !str_catc(&envelope, 'T') || !str_cat(&envelope, to) ||
	    !str_catz(&envelope))
		die_nomem();
	/* Received's "for" names the recipient as the client gave it */
	if (!nrcpt && !str_copyb(&rcpt1, p.addr.s, p.addr.len))
		die_nomem();
	nrcpt++;
	if (to != &p.addr)
		log_srs(&p.addr, to);
	reply("250 2.1.5 recipient ok");
	goto out;
refuse:
	log_reject_why("to", p.addr.s ? p.addr.s : "", p.addr.len, r, why);
	error_reply(r);
out:
	str_free(&p.addr);
}

/* Starts a message: postern-queue and the Received header. */
static int message_begin(struct str *id)
{
	struct str rec = STR_INIT;
	char proto[16];
	size_t pl = 0;

	if (!uniq_qid(id)) {
		warn_sys("warning: unable to make a queue id (memory or randomness)");
		return -1;
	}
	if (queue_start(&auth_user) == -1)
		return -1;
	/* RFC 3848 / 6531 protocol names */
#define P(s) do { size_t l_ = strlen(s); memcpy(proto + pl, s, l_); pl += l_; } while (0)
	if (utf8)
		P("UTF8SMTP");
	else
		P(ehlo || auth_proto[0] ? "ESMTP" : "SMTP");
	/* a HELO after AUTH does not undo the AUTH: still ESMTPA */
	if (ehlo || auth_proto[0]) {
		P(tls_proto);
		P(auth_proto);
	}
#undef P
	proto[pl] = 0;
	if (!received_build(&rec, helo.s, proto, tls_proto[0] ? &tls : 0, id->s, nrcpt == 1 ? rcpt1.s : 0,
	                    rcpt1.len))
		die_nomem();
	/* RFC 7208 9.1: above the Received field of the check's receiver */
	if (spf_field()->len)
		queue_put(spf_field()->s, spf_field()->len);
	queue_put(rec.s, rec.len);
	str_free(&rec);
	return 0;
}

/* The fields fixup_fields added to the message under way (BODY_ bits). */
static int fields_added;

/* Ends a message: the verdict, the envelope, the reply and the log line.
 * id is ours, in our Received line; qid is the queue's, which
 * postern-send's log and postern-qstat name: the log line ties the two. */
static void message_end(const struct str *id, unsigned long long size, int bad, int toobig,
                        unsigned long hops)
{
	static struct str qid = STR_INIT;
	const char *r;
	struct logline l = { STR_INIT };

	qid.len = 0;
	if (toobig) {
		queue_abort();
		r = "552 5.3.4 message size exceeds fixed maximum message size";
	} else if (bad) {
		queue_abort();
		r = "554 5.6.0 message refused: bare CR or LF (lines must end with CRLF)";
	} else if (hops >= 100) {
		queue_abort();
		r = "554 5.4.6 too many hops: over 100 Received lines (mail loop?)";
	} else {
		if (!str_catz(&envelope))
			die_nomem();
		r = queue_finish(&envelope, &qid);
	}
	log_begin(&l, "message");
	log_kv(&l, "id", id->s);
	if (qid.len)
		log_kv(&l, "qid", qid.s);
	log_kv(&l, "ip", client.ip);
	log_kv(&l, "helo", helo.s);
	log_kvb(&l, "from", sender.s, sender.len);
	log_kvu(&l, "nrcpt", nrcpt);
	log_kvu(&l, "size", size);
	log_kvu(&l, "hops", hops);
	if (tls_proto[0])
		log_kvb(&l, "tls", tls.protocol.s, tls.protocol.len);
	if (auth_user.len)
		log_kvb(&l, "auth", auth_user.s, auth_user.len);
	/* ENVID is the client's own name for the message, to find it by */
	if (dsn_ret)
		log_kv(&l, "ret", dsn_ret == DSN_RET_FULL ? "FULL" : "HDRS");
	if (dsn_envid.len)
		log_kvb(&l, "envid", dsn_envid.s, dsn_envid.len);
	if (queue_forged_removed() && !r)
		log_kvu(&l, "forged_ar_removed", queue_forged_removed());
	if (fields_added && !r) /* a refused message was not added to */
		log_kv(&l, "added", fields_added == BODY_DATE ? "date" : fields_added == BODY_MSGID ? "message-id" :
		                    "date,message-id");
	if (r)
		log_kv(&l, "reply", r);
	else
		log_kv(&l, "reply", "250");
	log_end(&l);
	if (r) {
		refusal_reply(r);
	} else {
		struct str s = STR_INIT;
		if (!str_cats(&s, "250 2.0.0 accepted id ") || !str_cat(&s, id) ||
		    (qid.len && (!str_cats(&s, " queued as ") || !str_cat(&s, &qid))))
			die_nomem();
		reply(s.s);
		str_free(&s);
		messages++;
	}
	reset_mail();
}

static void do_data(size_t argn)
{
	struct str id = STR_INIT;
	struct body b;
	unsigned long long size = 0;
	int toobig = 0;

	if (argn) {
		error_reply("501 5.5.4 DATA takes no argument");
		return;
	}
	if (!in_mail) {
		if (mail_refused)
			reply("503 5.5.1 need MAIL and RCPT before DATA");
		else
			error_reply("503 5.5.1 need MAIL and RCPT before DATA");
		return;
	}
	if (bdat_mode) {
		error_reply("503 5.5.1 DATA after BDAT");
		return;
	}
	if (!nrcpt) {
		error_reply("554 5.5.1 no valid recipients");
		return;
	}
	if (message_begin(&id) == -1) {
		reply("451 4.3.0 unable to start the queue; try again later");
		return;
	}
	reply("354 end data with <CR><LF>.<CR><LF>");
	body_init(&b, 0);
	b.stop_at_blank = cfg.submission;
	fields_added = 0;
	while (!b.done) {
		size_t used, o;
		if (!io_buffered(&in))
			fill();
		o = body_feed(&b, in.buf + in.pos, in.len - in.pos, body_out, &used);
		in.pos += used;
		if (size > ~0ULL - used)
			size = ~0ULL;
		else
			size += used;
		if (cfg.databytes && size > cfg.databytes)
			toobig = 1;
		if (!toobig && !b.bad)
			queue_put_message(body_out, o);
		if (b.at_blank) {
			b.at_blank = 0;
			fields_added = fixup_fields(&b, !toobig && !b.bad);
		}
	}
	if (cfg.submission && b.in_headers && b.last_lf)
		fields_added = fixup_fields(&b, !toobig && !b.bad); /* a header, and no body */
	message_end(&id, size, b.bad, toobig, b.hops);
	str_free(&id);
}

/* BDAT (RFC 3030): the chunk is always read in full, whatever the answer,
 * so that the command stream stays in step.  A refused chunk ends the
 * transaction, as the refusal at the end of DATA does (RFC 3030 2: the
 * client must take it as failed and send no more of its chunks); the
 * chunks it had already pipelined are read and answered 503 up to its
 * LAST (bdat_failed), without counting as errors: the client did nothing
 * wrong in sending them. */
static struct body bdat_body;
static struct str bdat_id;
static unsigned long long bdat_size;

/* Reads and drops the rest of a chunk. */
static void chunk_skip(unsigned long long left)
{
	while (left) {
		size_t take;
		if (!io_buffered(&in))
			fill();
		take = in.len - in.pos;
		if (take > left)
			take = (size_t)left;
		in.pos += take;
		left -= take;
	}
}

/* Passes a chunk on to postern-queue.  1 if the message outgrew databytes:
 * the rest of the chunk is then dropped. */
static int chunk_feed(unsigned long long left)
{
	while (left) {
		size_t used, o, take;
		if (!io_buffered(&in))
			fill();
		take = in.len - in.pos;
		if (take > left)
			take = (size_t)left;
		o = body_feed(&bdat_body, in.buf + in.pos, take, body_out, &used);
		in.pos += used;
		left -= used;
		bdat_size += used;
		if (cfg.databytes && bdat_size > cfg.databytes) {
			chunk_skip(left);
			return 1;
		}
		if (!bdat_body.bad)
			queue_put_message(body_out, o);
		if (bdat_body.at_blank) {
			bdat_body.at_blank = 0;
			fields_added = fixup_fields(&bdat_body, !bdat_body.bad);
		}
	}
	return 0;
}

/* A chunk refused before its message could begin: the transaction ends. */
static void bdat_refuse(const char *r, int last)
{
	refusal_reply(r);
	reset_mail();
	bdat_failed = !last;
}

static void do_bdat(const char *arg, size_t n)
{
	unsigned long long len;
	int last, toobig;

	if (!parse_bdat(arg, n, &len, &last)) {
		refuse_line("501 5.5.4 syntax: BDAT size [LAST]", 1); /* ends the session */
		return;
	}
	if (bdat_failed) {
		chunk_skip(len);
		bdat_failed = !last;
		reply("503 5.5.1 the message was already refused");
		return;
	}
	if (!in_mail && mail_refused) {
		chunk_skip(len);
		mail_refused = !last;
		reply("503 5.5.1 no transaction: its MAIL was refused");
		return;
	}
	if (!in_mail) {
		chunk_skip(len);
		error_reply("503 5.5.1 need MAIL and RCPT before BDAT");
		return;
	}
	if (!nrcpt) {
		chunk_skip(len);
		bdat_refuse("554 5.5.1 no valid recipients", last);
		return;
	}
	if (!bdat_mode) {
		if (message_begin(&bdat_id) == -1) {
			chunk_skip(len);
			bdat_refuse("451 4.3.0 unable to start the queue; try again later", last);
			return;
		}
		bdat_mode = 1;
		bdat_size = 0;
		body_init(&bdat_body, 1);
		bdat_body.stop_at_blank = cfg.submission;
		fields_added = 0;
	}
	toobig = chunk_feed(len);
	/* a held-back CR at the very end is a bare CR */
	if (last && bdat_body.state == 2)
		bdat_body.bad = 1;
	if (last && !toobig && cfg.submission && bdat_body.in_headers && bdat_body.last_lf)
		fields_added = fixup_fields(&bdat_body, !bdat_body.bad); /* a header, and no body */
	if (last || toobig || bdat_body.bad) {
		/* a bad chunk is refused now, not at LAST: the client stops sending */
		message_end(&bdat_id, bdat_size, bdat_body.bad, toobig, bdat_body.hops);
		str_free(&bdat_id);
		bdat_failed = !last;
		return;
	}
	{
		struct str s = STR_INIT;
		if (!str_cats(&s, "250 2.0.0 ") || !str_catu(&s, len) || !str_cats(&s, " octets received"))
			die_nomem();
		reply(s.s);
		str_free(&s);
	}
}

/* STARTTLS (RFC 3207) */

static void log_tls(const char *event, size_t discarded, const struct str *why)
{
	struct logline l = { STR_INIT };
	log_begin(&l, event);
	log_kv(&l, "ip", client.ip);
	if (why)
		log_kvb(&l, "why", why->s, why->len);
	else {
		log_kvb(&l, "protocol", tls.protocol.s, tls.protocol.len);
		log_kvb(&l, "cipher", tls.cipher.s, tls.cipher.len);
		if (tls.sni.len)
			log_kvb(&l, "sni", tls.sni.s, tls.sni.len);
	}
	if (discarded)
		log_kvu(&l, "discarded", discarded);
	log_end(&l);
}

/* From now on the session speaks through the engine's pipes.  fds 0 and 1
 * become /dev/null, so that no later write (ours, or a child's that
 * inherited them) can reach the client past TLS. */
static void tls_switch(int rfd, int wfd)
{
	int fl, n = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (n == -1 || dup2(n, 0) == -1 || dup2(n, 1) == -1)
		die_sys(111, "fatal: unable to put /dev/null on fds 0 and 1");
	if (n > 2)
		close(n);
	/* Non-blocking, so that a client that stops reading fills the
	 * engine's pipe without stopping us past our timeouts (io_flush
	 * waits for room with them), and the session alarm's goodbye can
	 * never block. */
	fl = fcntl(wfd, F_GETFL);
	if (fl == -1 || fcntl(wfd, F_SETFL, fl | O_NONBLOCK) == -1)
		die_sys(111, "fatal: unable to make the TLS pipe non-blocking");
	in.fd = rfd;
	in.pos = in.len = 0;
	out.fd = wfd;
	alarm_fd = wfd;
}

static void do_starttls(size_t argn)
{
	size_t discarded;
	int rfd, wfd;

	if (argn) {
		error_reply("501 5.5.4 STARTTLS takes no argument");
		return;
	}
	if (tls_proto[0]) {
		error_reply("503 5.5.1 TLS is already active");
		return;
	}
	if (client.local) {
		/* sendmail -bs: a pipe from a local user, whom postern-tlsd would refuse */
		error_reply("502 5.5.1 STARTTLS is not available to local clients");
		return;
	}
	if (tls_unavailable) {
		/* asked once already this session: not again, and it counts */
		error_reply("454 4.7.0 TLS not available due to temporary reason");
		return;
	}
	if (tls_helper() == -1) {
		tls_unavailable = 1;
		log_tls("tls_unavailable", 0, tls_why());
		reply("454 4.7.0 TLS not available due to temporary reason");
		return;
	}
	reply("220 2.0.0 Ready to start TLS");
	flush_out();
	/* from here the socket is the engine's: a session alarm now says
	 * nothing rather than write plaintext into the handshake */
	alarm_fd = -1;
	/* CVE-2011-0411: what the client sent after STARTTLS, before the
	 * handshake, came in clear; taken as commands after it, it would pass
	 * for what the client said inside TLS */
	discarded = io_buffered(&in);
	in.pos = in.len = 0;
	if (tls_start(&tls, &rfd, &wfd) == -1) {
		/* the client speaks TLS now, or nothing: no reply can reach it */
		log_tls("tls_failed", discarded, tls_why());
		disconnect("tls failed");
	}
	tls_switch(rfd, wfd);
	tls_proto = "S";
	/* RFC 3207 4.2: forget all the client told us before; it says EHLO
	 * again, and AUTH again if it had (a loopback client may AUTH in clear) */
	seen_helo = ehlo = 0;
	reset_mail();
	if (auth_user.len) {
		auth_user.len = 0;
		auth_proto = "";
		client.relay = 0;
	}
	log_tls("tls", discarded, 0);
}

/* AUTH (RFC 4954), under -a only: PLAIN or LOGIN, the password checked
 * by postern-auth (a C request, doc/pop3.md).  The password passes
 * through line, the input buffer and a struct sasl: each is wiped as
 * soon as postern-auth has answered, before any pause, and no log line
 * holds it. */

static void auth_wipe(struct sasl *s)
{
	explicit_bzero(s, sizeof *s);
	wipe_read();
}

/* One response of the exchange into line, without its CRLF: 0, or 1 when
 * it was answered already (cancelled, too long, not a line); the caller
 * wipes. */
static int auth_response(const char *challenge)
{
	int bdat, auth;

	reply(challenge);
	if (!read_line(SASL_LINE_MAX, &bdat, &auth)) {
		error_reply(AUTH_TOO_LONG);
		return 1;
	}
	if (line.len < 2 || line.s[line.len - 2] != '\r') {
		error_reply("500 5.5.2 bare LF in response: lines end with CRLF (RFC 5321 2.3.8)");
		return 1;
	}
	line.len -= 2;
	line.s[line.len] = 0;
	if (line.len == 1 && line.s[0] == '*') {
		error_reply("501 5.7.0 authentication cancelled");
		return 1;
	}
	return 0;
}

/* The answer to a decoded exchange; ask: the credentials could be right,
 * so postern-auth is asked (otherwise they are wrong without asking). */
static void auth_verdict(struct sasl *s, enum sasl_mech m, int ask)
{
	struct str why = STR_INIT;
	struct logline l = { STR_INIT };
	size_t at;
	char a = 'N';

	if (ask)
		a = auth_ask('C', s->user, s->ulen, s->pass, s->plen, client.local ? "" : client.ip, 0, 0, &why);
	log_begin(&l, a == 'K' ? "auth" : a == 'N' ? "auth_failed" : "auth_tempfail");
	log_kv(&l, "ip", client.ip);
	/* a name that is no login name may be a password typed in its place */
	if (s->user && login_name(s->user, s->ulen, &at))
		log_kvb(&l, "user", s->user, s->ulen);
	else
		log_kv(&l, "user_invalid", "yes");
	log_kv(&l, "mechanism", m == SASL_PLAIN ? "PLAIN" : "LOGIN");
	log_kv(&l, "tls", tls_proto[0] ? "yes" : "no");
	if (!ask)
		log_kv(&l, "why", "not a name and password that could be right");
	if (a != 'K' && a != 'N')
		log_kvb(&l, "why", why.s, why.len);
	log_end(&l);
	str_free(&why);
	if (a == 'K' && !str_copyb(&auth_user, s->user, s->ulen))
		die_nomem();
	auth_wipe(s);
	if (a == 'K') {
		auth_proto = "A";
		client.relay = 1;
		reply("235 2.7.0 authentication successful");
	} else if (a == 'N') {
		flush_out();
		sleep(AUTH_PAUSE_S);
		error_reply("535 5.7.8 authentication credentials invalid");
		if (++auth_failures >= AUTH_FAILURES_MAX) {
			say_me("421 4.7.0", "too many failed authentications; closing connection");
			disconnect("too many failed authentications");
		}
	} else {
		reply("454 4.7.0 temporary authentication failure; try again later");
	}
}

/* Why AUTH cannot be taken now, or 0. */
static const char *auth_refusal(void)
{
	if (!cfg.submission)
		return "502 5.5.1 AUTH is offered on the submission ports only";
	if (!ehlo)
		return "503 5.5.1 send EHLO first";
	if (auth_user.len)
		return "503 5.5.1 already authenticated";
	if (in_mail)
		return "503 5.5.1 AUTH is not permitted during a mail transaction";
	if (!auth_allowed())
		return "538 5.7.11 encryption required for authentication: use STARTTLS first";
	return 0;
}

static void do_auth(const char *arg, size_t n)
{
	const char *r0;
	struct sasl s;
	enum sasl_mech m;
	size_t resp;
	int r;

	memset(&s, 0, sizeof s);
	/* every way out but the verdict's, which wipes before its pause,
	 * goes through out: an initial response may hold the password */
	if ((r0 = auth_refusal()) != 0) {
		error_reply(r0);
		goto out;
	}
	m = sasl_mechanism(arg, n, &resp);
	if (m == SASL_NONE) {
		error_reply(n ? "504 5.5.4 unrecognized authentication type: PLAIN or LOGIN"
		              : "501 5.5.4 syntax: AUTH mechanism [initial-response]");
		goto out;
	}
	if (m == SASL_PLAIN) {
		if (resp == n && auth_response("334 "))
			goto out;
		r = resp == n ? sasl_plain(line.s, line.len, &s) : sasl_plain(arg + resp, n - resp, &s);
	} else {
		if (resp == n && auth_response("334 VXNlcm5hbWU6")) /* "Username:" */
			goto out;
		r = resp == n ? sasl_login_user(line.s, line.len, &s) : sasl_login_user(arg + resp, n - resp, &s);
		/* a name that cannot be right is still asked its password: the
		 * client learns only that the two together were wrong */
		if (r != SASL_SYNTAX) {
			int rp;
			if (auth_response("334 UGFzc3dvcmQ6")) /* "Password:" */
				goto out;
			rp = sasl_login_pass(line.s, line.len, &s);
			if (rp != SASL_OK && r == SASL_OK)
				r = rp;
			else if (rp == SASL_SYNTAX)
				r = rp;
		}
	}
	if (r == SASL_SYNTAX) {
		error_reply("501 5.5.2 cannot decode the authentication response");
		goto out;
	}
	auth_verdict(&s, m, r == SASL_OK);
	return;
out:
	auth_wipe(&s);
}

/* A 421 before the session could begin; under -s not a byte in clear,
 * since the client's first bytes are its TLS handshake. */
static void early_reply(const char *r)
{
	if (cfg.implicit_tls)
		return;
	reply(r);
	flush_out();
}

/* Set-up: the UCSPI environment, validated.  With no TCPREMOTEIP this is
 * `sendmail -bs`, a local user; but a network socket on fd 0 without the
 * environment is a misconfiguration, and trusting it would make an open
 * relay, so that fails closed. */
static void setup_client(void)
{
	const char *ip = getenv("TCPREMOTEIP");
	unsigned char bin[16];

	if (!ip) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof ss;
		if (getsockname(0, (struct sockaddr *)&ss, &sl) == 0 &&
		    (ss.ss_family == AF_INET || ss.ss_family == AF_INET6)) {
			early_reply("421 4.3.0 server misconfigured: no TCPREMOTEIP");
			die(111, "fatal: fd 0 is a network socket but TCPREMOTEIP is not set");
		}
		client.local = 1;
		client.relay = 1;
		client.ip = "local";
		client.port = client.localip = "";
		return;
	}
	if (inet_pton(strchr(ip, ':') ? AF_INET6 : AF_INET, ip, bin) != 1) {
		early_reply("421 4.3.0 server misconfigured: bad TCPREMOTEIP");
		die(111, "fatal: TCPREMOTEIP is not an IP address");
	}
	client.ip = ip;
	/* on the submission ports only AUTH opens the relay */
	client.relay = !cfg.submission && getenv("RELAYCLIENT") != 0;
	client.loopback = remote_ip_loopback(bin, strchr(ip, ':') != 0);
	client.port = getenv("TCPREMOTEPORT");
	client.localip = getenv("TCPLOCALIP");
	if (!client.port)
		client.port = "";
	if (!client.localip)
		client.localip = "";
	client.localbinlen = literal_addr(client.localip, strlen(client.localip), client.localbin);
	if (!client.localbinlen && strchr(client.localip, ':')) {
		if (inet_pton(AF_INET6, client.localip, client.localbin) == 1)
			client.localbinlen = 16;
	}
	client.host = getenv("TCPREMOTEHOST");
	if (client.host && (!parse_helo(client.host, strlen(client.host)) ||
	                    !domain_check(client.host, strlen(client.host))))
		client.host = 0;
}

static void greet_pause(void)
{
	struct pollfd p;
	int r;

	/* a mail client never talks first: a pause would only keep it waiting */
	if (!cfg.greetdelay || client.local || cfg.submission)
		return;
	p.fd = in.fd; /* the engine's pipe under -s */
	p.events = POLLIN;
	p.revents = 0;
	do
		r = poll(&p, 1, (int)cfg.greetdelay * 1000);
	while (r == -1 && errno == EINTR);
	if (r > 0) {
		say_me("554 5.7.0", "protocol violation: you talked before my greeting");
		disconnect("early talker");
	}
}

static void options(int argc, char **argv)
{
	int opt;

	while ((opt = getopt(argc, argv, "as")) != -1) {
		switch (opt) {
		case 'a': cfg.submission = 1; break;
		case 's': cfg.implicit_tls = 1; break;
		default: die(100, "usage: postern-smtpd [-a] [-s]");
		}
	}
	if (optind != argc)
		die(100, "usage: postern-smtpd [-a] [-s]");
}

/* -s: the client speaks TLS from its first byte.  Nothing is written in
 * clear: a client that cannot have TLS gets no greeting, only a closed
 * connection, and the log says why. */
static void implicit_tls(void)
{
	int rfd, wfd;

	if (client.local)
		die(100, "fatal: -s needs a network client (TCPREMOTEIP)");
	if (tls_helper() == -1) {
		log_tls("tls_unavailable", 0, tls_why());
		disconnect("tls unavailable");
	}
	if (tls_start(&tls, &rfd, &wfd) == -1) {
		log_tls("tls_failed", 0, tls_why());
		disconnect("tls failed");
	}
	tls_switch(rfd, wfd);
	tls_proto = "S";
	log_tls("tls", 0, 0);
}

int main(int argc, char **argv)
{
	struct logline l = { STR_INIT };

	progname = "postern-smtpd";
	started = time(0);
	/* Every session runs as the same user: without this, one session whose
	 * process a client took over could ptrace the others, or read their
	 * memory through /proc, and so their mail.  The install makes this
	 * program execute-only (0711), so the kernel already starts it
	 * undumpable, with no window before this line (SECURITY). */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		die_sys(111, "fatal: unable to make myself undumpable");
	options(argc, argv);
	io_init(&in, 0, inbuf, sizeof inbuf);
	io_init(&out, 1, outbuf, sizeof outbuf);
	/* line never grows after this: a password in it is never left behind
	 * in freed memory by a realloc */
	if (!str_ready(&line, READ_MAX))
		die_nomem();
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		die_sys(111, "fatal: unable to ignore SIGPIPE");
	setup_client();
	if (!client.local && (geteuid() == 0 || getuid() == 0)) {
		early_reply("421 4.3.0 server misconfigured");
		die(111, "fatal: refusing to talk to the network as root: run me as ",
		    cfg.submission ? "postern-submit" : "postern-smtpd");
	}
	if (config_load() == -1) {
		early_reply("421 4.3.0 temporary configuration problem; try again later");
		die_sys(111, "fatal: unable to read control files");
	}
	if (!client.local && tls_env() == -1) {
		early_reply("421 4.3.0 server misconfigured");
		die(111, "fatal: SSLCTLFD, SSLREADFD and SSLWRITEFD must all be open descriptors above 2");
	}
	in.timeout_ms = out.timeout_ms = (int)(cfg.timeout * 1000);
	if (cfg.implicit_tls)
		alarm_fd = -1; /* until the handshake is done: nothing in clear */
	if (cfg.session) {
		if (signal(SIGALRM, on_alarm) == SIG_ERR)
			die_sys(111, "fatal: unable to catch SIGALRM");
		alarm((unsigned)cfg.session);
	}
	log_begin(&l, "connect");
	log_kv(&l, "ip", client.ip);
	log_kv(&l, "port", client.port);
	log_kv(&l, "local", client.localip);
	if (client.host)
		log_kv(&l, "host", client.host);
	log_kv(&l, "relay", client.relay ? "yes" : "no");
	if (cfg.submission)
		log_kv(&l, "mode", cfg.implicit_tls ? "submissions" : "submission");
	log_kvu(&l, "pid", (unsigned long long)getpid());
	log_end(&l);
	dnsbl_start();
	if (cfg.implicit_tls)
		implicit_tls();
	greet_pause();
	say_me("220", "ESMTP postern");

	for (;;) {
		enum verb v;
		size_t arg;
		const char *a;
		size_t an;

		if (get_command(&v, &arg))
			continue;
		a = line.s + arg;
		an = line.len - arg;
		switch (v) {
		case V_HELO: do_helo(a, an, 0); break;
		case V_EHLO: do_helo(a, an, 1); break;
		case V_MAIL: do_mail(a, an); break;
		case V_RCPT: do_rcpt(a, an); break;
		case V_DATA: do_data(an); break;
		case V_BDAT: do_bdat(a, an); break;
		case V_RSET:
			if (an) {
				error_reply("501 5.5.4 RSET takes no argument");
				break;
			}
			reset_mail();
			reply("250 2.0.0 ok");
			break;
		case V_NOOP: reply("250 2.0.0 ok"); break;
		case V_QUIT:
			say_me("221 2.0.0", "closing connection");
			disconnect("quit");
			break;
		case V_VRFY: reply("252 2.5.0 cannot VRFY; send some mail and I will try my best"); break;
		case V_HELP:
			reply(cfg.submission ? "214 2.0.0 postern-smtpd: commands HELO EHLO AUTH MAIL RCPT DATA BDAT RSET NOOP VRFY STARTTLS QUIT"
			                     : "214 2.0.0 postern-smtpd: commands HELO EHLO MAIL RCPT DATA BDAT RSET NOOP VRFY STARTTLS QUIT");
			break;
		case V_EXPN: case V_TURN: case V_ETRN:
			error_reply("502 5.5.1 command not implemented");
			break;
		case V_STARTTLS: do_starttls(an); break;
		case V_AUTH: do_auth(a, an); break;
		case V_UNKNOWN:
		default:
			error_reply("500 5.5.1 command unrecognized");
			break;
		}
	}
}
