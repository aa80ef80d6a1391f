/* SMTP sessions with one address: greeting, EHLO (HELO if refused),
 * AUTH when a route has credentials, then one transaction per message
 * (MAIL with SIZE/BODY/SMTPUTF8 as offered, every recipient, the DSN
 * parameters on both when DSN is offered, DATA with dot-stuffing and CRLF
 * line ends), QUIT.  PIPELINING, when offered, sends MAIL, the RCPTs and
 * DATA in one write (RFC 2920).  A transaction that does not end cleanly
 * ends its session; the next message gets a new one. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "remote.h"
#include "die.h"
#include "fmt.h"
#include "log.h"

struct conn {
	int live;                /* a connection is open */
	int fd;                  /* the socket; -1 once TLS holds it */
	int ctl, rfd, wfd;       /* the TLS engine's control socket and pipes, or -1 */
	int tls, verified;       /* in TLS; its certificate verified (policy verify) */
	const char *clear_why;   /* in clear under may: why STARTTLS was not used, or 0 */
	struct io in, out;
	char ibuf[4096], obuf[16384];
	char ip[64];
	const struct addr *a;
	struct reply r;
	/* what EHLO offered */
	int pipelining, eightbitmime, smtputf8, starttls, size, auth_plain, auth_login, dsn;
	const char *err; /* why the last read or write failed */
	unsigned long long sizemax;
};

static int set_text(struct str *t, const struct conn *c, const char *what, const struct reply *r,
                    const char *err)
{
	t->len = 0;
	if (c->a->host[0] && c->a->host[0] != '[' &&
	    (!str_cats(t, c->a->host) || !str_catc(t, ' ')))
		return 0;
	if (!str_catc(t, '[') || !str_cats(t, c->ip) || !str_cats(t, "] "))
		return 0;
	if (r && r->code) {
		if (!str_cats(t, "said: "))
			return 0;
		reply_quote(r, t, TEXT_MAX - 100);
		if (what && (!str_cats(t, " (in reply to ") || !str_cats(t, what) || !str_catc(t, ')')))
			return 0;
	} else if (!str_cats(t, err ? err : "failed") ||
	           (what && (!str_cats(t, " (") || !str_cats(t, what) || !str_catc(t, ')'))))
		return 0;
	if (t->len > TEXT_MAX)
		t->len = TEXT_MAX;
	return 1;
}

static int dial(struct conn *c, int timeout)
{
	int fd = tcp_dial(c->a, timeout);
	if (fd == -1)
		return -1;
	c->fd = fd;
	return 0;
}

/* Each timeout bounds a whole step, not only each wait in it: a server that
 * sends one byte of its reply a minute, or takes the message a window of a
 * few bytes at a time, would otherwise hold the delivery (and its slots in
 * postern-send) for weeks.  A reply has timeoutremote in all; what is sent
 * has timeoutremote from its last command, and the message timeoutremote
 * plus a second for each SEND_RATE_MIN bytes of it. */
#define SEND_RATE_MIN 1024 /* bytes a second: 8 kbit/s */

static void sending(struct conn *c, size_t bytes)
{
	io_deadline(&c->out, (unsigned long long)c->out.timeout_ms + bytes / SEND_RATE_MIN * 1000);
}

static int put(struct conn *c, const char *s)
{
	sending(c, 0);
	return io_puts(&c->out, s);
}
/* A write failed (errno says how): why, for the recipients' texts.  -1. */
static int send_failed(struct conn *c)
{
	c->err = errno == ETIMEDOUT ? "timed out sending" : "lost the connection";
	c->r.code = 0;
	return -1;
}

static int flush(struct conn *c) { return io_flush(&c->out) == 0 ? 0 : send_failed(c); }

/* "<addr>" with the bytes as stored: addresses were checked on the way in
 * (no CR, LF, NUL, space or <>), so nothing here can start a new command. */
static int put_path(struct conn *c, const char *cmd, const char *a, size_t n)
{
	sending(c, 0);
	return io_puts(&c->out, cmd) || io_put(&c->out, "<", 1) || io_put(&c->out, a, n) ||
	       io_put(&c->out, ">", 1);
}

/* " PARAMS" after a MAIL or RCPT path, when the server offers DSN and
 * there are any (RFC 3461 4): checked with dsn_params_ok on the way in,
 * so printable ASCII with single spaces, nothing that ends the line.
 * The command grows past RFC 5321's 512 bytes by at most DSN_PARAMS_MAX,
 * as RFC 3461 5 allows; nothing here has a line limit (io grows its
 * writes through the buffer), so nothing is cut. */
static int put_params(struct conn *c, const char *p, size_t n)
{
	if (!c->dsn || !n)
		return 0;
	return io_put(&c->out, " ", 1) || io_put(&c->out, p, n);
}

static int get(struct conn *c)
{
	io_deadline(&c->in, (unsigned long long)c->in.timeout_ms);
	if (reply_read(&c->in, &c->r) == 0)
		return 0;
	c->err = c->r.err;
	return -1;
}

static int ieq_prefix(const char *s, size_t n, const char *kw)
{
	size_t k = strlen(kw), i;
	if (n < k || (n > k && s[k] != ' ' && s[k] != '='))
		return 0;
	for (i = 0; i < k; i++) {
		char x = s[i];
		if (x >= 'a' && x <= 'z')
			x = (char)(x - 'a' + 'A');
		if (x != kw[i])
			return 0;
	}
	return 1;
}

/* "AUTH PLAIN LOGIN ..." (or the old "AUTH=PLAIN LOGIN"): the mechanisms
 * postern knows.  Each word is compared whole, so "PLAINX" is not PLAIN. */
static void auth_mechs(struct conn *c, const char *s, size_t n)
{
	size_t pos = 0;
	while (pos < n) {
		size_t e = pos;
		while (e < n && s[e] != ' ' && s[e] != '=')
			e++;
		if (ieq_prefix(s + pos, e - pos, "PLAIN") && e - pos == 5)
			c->auth_plain = 1;
		else if (ieq_prefix(s + pos, e - pos, "LOGIN") && e - pos == 5)
			c->auth_login = 1;
		pos = e + 1;
	}
}

static void ehlo_keywords(struct conn *c)
{
	const char *t = c->r.text.s;
	size_t n = c->r.text.len, pos = 0, line = 0;

	while (pos <= n) {
		const char *nl = memchr(t + pos, '\n', n - pos);
		size_t end = nl ? (size_t)(nl - t) : n;
		if (line++ > 0) { /* the first line is the server's name */
			const char *s = t + pos;
			size_t l = end - pos;
			if (ieq_prefix(s, l, "PIPELINING"))
				c->pipelining = 1;
			else if (ieq_prefix(s, l, "8BITMIME"))
				c->eightbitmime = 1;
			else if (ieq_prefix(s, l, "SMTPUTF8"))
				c->smtputf8 = 1;
			else if (ieq_prefix(s, l, "STARTTLS"))
				c->starttls = 1;
			else if (ieq_prefix(s, l, "DSN"))
				c->dsn = 1;
			else if (ieq_prefix(s, l, "AUTH"))
				auth_mechs(c, s + 4, l - 4);
			else if (ieq_prefix(s, l, "SIZE")) {
				unsigned long long v = 0;
				if (l > 5)
					scan_ulong(s + 5, l - 5, &v);
				c->sizemax = v; /* 0: no limit stated */
				c->size = 1;
			}
		}
		if (!nl)
			break;
		pos = end + 1;
	}
}

/* The body: LF -> CRLF, a leading '.' doubled, a last line without LF
 * ended, then the final ".". */
static int put_body(struct conn *c, const char *m, size_t n)
{
	size_t pos = 0;
	while (pos < n) {
		const char *nl = memchr(m + pos, '\n', n - pos);
		size_t end = nl ? (size_t)(nl - m) : n, l = end - pos;
		if (l && m[end - 1] == '\r')
			l--; /* already CRLF: do not make it CR CR LF */
		if (m[pos] == '.' && io_put(&c->out, ".", 1))
			return -1;
		if (io_put(&c->out, m + pos, l) || io_put(&c->out, "\r\n", 2))
			return -1;
		pos = end + 1;
	}
	return io_put(&c->out, ".\r\n", 3);
}

static size_t wire_size(const struct job *j)
{
	size_t i, lf = 0;
	for (i = 0; i < j->msglen; i++)
		lf += j->msg[i] == '\n';
	return j->msglen + lf;
}

static void settle(struct job *j, size_t i, char st, const struct conn *c, const char *what,
                   const struct reply *r, const char *err)
{
	j->st[i] = st;
	if (!set_text(&j->text[i], c, what, r, err))
		j->text[i].len = 0;
}

/* Settles every recipient not yet settled. */
static void settle_rest(struct job *j, char st, const struct conn *c, const char *what,
                        const struct reply *r, const char *err)
{
	size_t i;
	for (i = 0; i < j->n; i++)
		if (!j->st[i])
			settle(j, i, st, c, what, r, err);
}

/* Only a 2xx is a success: a 3xx where none belongs (a server or a proxy
 * out of step) is tried again later, never taken for a delivery. */
static char class_of(unsigned code) { return code >= 500 ? 'D' : code / 100 == 2 ? 'K' : 'Z'; }

static void quit(struct conn *c)
{
	c->in.timeout_ms = c->out.timeout_ms = 5000;
	if (!put(c, "QUIT\r\n") && !io_flush(&c->out))
		(void)get(c);
}

/* Host-level failure: why gets the text; the caller tries the next address. */
static int host_fail(struct conn *c, struct str *why, const char *what, const char *err)
{
	if (!set_text(why, c, what, c->r.code ? &c->r : 0, err ? err : c->err))
		why->len = 0;
	return 1;
}

static void auth_log(const struct job *j, const struct conn *c, const char *mech, const char *result)
{
	struct logline l = { STR_INIT };
	struct str q = STR_INIT;

	/* the user name and the server's words only: never the password,
	 * never what was sent (base64 is no secrecy) */
	if (c->r.code)
		reply_quote(&c->r, &q, 300);
	log_begin(&l, "auth");
	log_kv(&l, "qid", j->qid);
	log_kv(&l, "mx", c->a->host);
	log_kv(&l, "ip", c->ip);
	log_kv(&l, "mech", mech);
	log_kvb(&l, "user", j->auth->user, j->auth->ulen);
	log_kv(&l, "result", result);
	log_kvb(&l, "reply", q.s ? q.s : "", q.len);
	log_end(&l);
	str_free(&q);
}

/* One line holding a secret: sent, then wiped from the line and from the
 * output buffer (io keeps what it wrote until it is overwritten). */
static int put_secret(struct conn *c, char *line, size_t n)
{
	int r;
	sending(c, 0);
	r = io_put(&c->out, line, n) || io_put(&c->out, "\r\n", 2) || flush(c);
	explicit_bzero(line, n);
	explicit_bzero(c->obuf, sizeof c->obuf);
	return r;
}

/* SMTP AUTH (RFC 4954) with the route's credentials: PLAIN with an
 * initial response, LOGIN when only LOGIN is offered.  0 accepted (2xx),
 * 1 try the next address (4xx, lost connection, a surprise), 2 refused
 * (5xx): why quotes the server. */
static int auth(struct job *j, struct conn *c, struct str *why)
{
	static char line[11 + AUTH_B64_MAX];
	const struct creds *cr = j->auth;
	const char *mech = c->auth_plain ? "PLAIN" : "LOGIN";
	const char *what = c->auth_plain ? "AUTH PLAIN" : "AUTH LOGIN";
	size_t n;
	int rc;

	if (c->auth_plain) {
		memcpy(line, "AUTH PLAIN ", 11);
		n = auth_plain_response(cr, line + 11, sizeof line - 11);
		if (!n || put_secret(c, line, 11 + n) || get(c))
			goto lost;
	} else {
		if (put(c, "AUTH LOGIN\r\n") || flush(c) || get(c))
			goto lost;
		if (c->r.code == 334) {
			n = b64_encode((const unsigned char *)cr->user, cr->ulen, line, sizeof line);
			if (!n || put_secret(c, line, n) || get(c))
				goto lost;
		}
		if (c->r.code == 334) {
			n = b64_encode((const unsigned char *)cr->pass, cr->plen, line, sizeof line);
			if (!n || put_secret(c, line, n) || get(c))
				goto lost;
		}
	}
	explicit_bzero(line, sizeof line);
	if (c->r.code / 100 == 2) {
		auth_log(j, c, mech, "accepted");
		return 0;
	}
	if (c->r.code / 100 == 3) {
		/* a challenge after the last answer: cancel (RFC 4954 4) */
		auth_log(j, c, mech, "unexpected");
		rc = host_fail(c, why, what, 0);
		if (!put(c, "*\r\n") && !flush(c))
			(void)get(c);
		quit(c);
		return rc;
	}
	auth_log(j, c, mech, c->r.code >= 500 ? "refused" : "deferred");
	rc = host_fail(c, why, what, 0);
	quit(c);
	return c->r.code >= 500 ? 2 : rc;
lost:
	explicit_bzero(line, sizeof line);
	explicit_bzero(c->obuf, sizeof c->obuf);
	auth_log(j, c, mech, "lost");
	return host_fail(c, why, what, c->err ? c->err : "lost the connection");
}

/* How a transaction left the connection. */
enum after { REUSE, QUIT_IT, DEAD };

static struct tls_report tls_rep; /* the engine's report for the session in TLS */

static void close_fd(int *fd)
{
	if (*fd != -1)
		(void)close(*fd); /* nothing is left to lose on it */
	*fd = -1;
}

/* control/remotetls's policy for this job at this host (dane.c) */
static enum tls_policy pol_at(const struct conn *c, const struct job *j) { return tls_effective(j->tls, c->a); }

static void tls_log(const char *event, const struct job *j, const struct conn *c, const char *reason,
                    const char *then)
{
	struct logline l = { STR_INIT };
	log_begin(&l, event);
	log_kv(&l, "qid", j->qid);
	log_kv(&l, "mx", c->a->host);
	/* under dane through a CNAME: the name the certificate was checked for */
	if (pol_at(c, j) == TLS_DANE && c->a->tlsa_name[0] && strcmp(c->a->tlsa_name, c->a->host) != 0)
		log_kv(&l, "name", c->a->tlsa_name);
	log_kv(&l, "ip", c->ip);
	if (reason) {
		log_kv(&l, "policy", tls_policy_name(pol_at(c, j)));
		log_kv(&l, "reason", reason);
		log_kv(&l, "then", then);
	} else {
		log_kvb(&l, "protocol", tls_rep.protocol.s, tls_rep.protocol.len);
		log_kvb(&l, "cipher", tls_rep.cipher.s, tls_rep.cipher.len);
		log_kv(&l, "verified", c->verified ? "yes" : "no");
		/* policy t (MTA-STS testing): why verify would have refused it */
		if (!c->verified && tls_rep.verify_error.len)
			log_kvb(&l, "why", tls_rep.verify_error.s, tls_rep.verify_error.len);
	}
	log_end(&l);
}

/* The protocol's name for a log line: [A-Za-z0-9.] only, cut to fit; ""
 * for a session in clear (p is 0). */
static void tls_name_copy(char *out, size_t size, const struct str *p)
{
	size_t i, k = 0;
	for (i = 0; p && i < p->len && k + 1 < size; i++) {
		char x = p->s[i];
		if ((x >= 'A' && x <= 'Z') || (x >= 'a' && x <= 'z') || (x >= '0' && x <= '9') || x == '.')
			out[k++] = x;
	}
	out[k] = 0;
}

/* A host failure under policy encrypt or verify: TLS was required and is
 * not to be had here.  why says so first, with 4.7.0, then what happened
 * (detail, and the server's reply when r is not 0). */
static int tls_required(struct conn *c, const struct job *j, struct str *why, const char *detail,
                        const struct reply *r)
{
	struct str e = STR_INIT;
	if (!str_cats(&e, "TLS required by control/remotetls (") || !str_cats(&e, tls_policy_name(pol_at(c, j))) ||
	    !str_cats(&e, ", 4.7.0): ") || !str_cats(&e, detail))
		die_nomem();
	if (r) {
		if (!str_cats(&e, ": "))
			die_nomem();
		reply_quote(r, &e, TEXT_MAX - 200);
	}
	tls_log("tls_failed", j, c, e.s, "next host");
	c->r.code = 0; /* the text is ours; the reply, if any, is in it */
	host_fail(c, why, 0, e.s);
	str_free(&e);
	return 1;
}

/* Into TLS: the engine's pipes become the session's, and our copy of the
 * socket is closed, so nothing of ours can ever reach the server past
 * TLS.  What EHLO offered in clear is forgotten (RFC 3207 4.2). */
static int tls_switch(struct conn *c)
{
	if (tls_client_switch(c->rfd, c->wfd) == -1)
		return -1;
	close_fd(&c->fd);
	c->in.fd = c->rfd;
	c->out.fd = c->wfd;
	c->in.pos = c->in.len = 0;
	c->out.len = 0;
	c->tls = 1;
	c->verified = tls_rep.verified == 1;
	c->pipelining = c->eightbitmime = c->smtputf8 = c->starttls = c->size = c->dsn = 0;
	c->auth_plain = c->auth_login = 0;
	c->sizemax = 0;
	return 0;
}

/* STARTTLS (RFC 3207) as control/remotetls asks, after the first EHLO.
 * 0: go on, in TLS or (policy may) in clear; 1: the host failed (why);
 * 3: policy may, the handshake failed: try this address again in clear. */
static int starttls(struct conn *c, struct job *j, struct str *why, enum after *state)
{
	static struct str twhy;
	enum tls_policy pol = pol_at(c, j);
	int fds[3];
	size_t early;

	*state = QUIT_IT;
	if (!c->starttls) {
		c->clear_why = "starttls not offered";
		if (pol == TLS_MAY)
			return 0;
		return tls_required(c, j, why, "STARTTLS is not offered", 0);
	}
	/* Bytes already waiting after the EHLO reply would be read as the
	 * answer to STARTTLS: a server does not send them unasked. */
	if (io_buffered(&c->in)) {
		*state = DEAD;
		tls_log("tls_failed", j, c, "bytes after the EHLO reply, before STARTTLS (response injection?)",
		        "next host");
		c->r.code = 0;
		return host_fail(c, why, 0, "sent bytes after its EHLO reply, before STARTTLS: response "
		                 "injection refused (4.7.0)");
	}
	/* the engine first: if there is none, nothing has been said yet and
	 * the session can go on in clear */
	if (tls_client_engine(c->fd, pol, c->a, fds, &twhy) == -1) {
		c->clear_why = "tls unavailable";
		if (pol == TLS_MAY) {
			tls_log("tls_unavailable", j, c, twhy.s, "clear");
			return 0;
		}
		return tls_required(c, j, why, twhy.s, 0);
	}
	c->ctl = fds[0];
	c->rfd = fds[1];
	c->wfd = fds[2];
	if (put(c, "STARTTLS\r\n") || flush(c) || get(c)) {
		*state = DEAD;
		return host_fail(c, why, "STARTTLS", c->err);
	}
	if (c->r.code != 220) {
		/* the engine ends when its control socket closes unused */
		close_fd(&c->ctl);
		close_fd(&c->rfd);
		close_fd(&c->wfd);
		c->clear_why = "starttls refused";
		if (pol == TLS_MAY) {
			struct str q = STR_INIT;
			reply_quote(&c->r, &q, 300);
			tls_log("tls_refused", j, c, q.s ? q.s : "", "clear");
			str_free(&q);
			return 0;
		}
		return tls_required(c, j, why, "STARTTLS refused", &c->r);
	}
	/* Bytes after the 220 came in clear before TLS: taken as replies
	 * inside it they would pass for what the server said there (the
	 * client's side of CVE-2011-0411).  A server does not do that; an
	 * attacker on the path does.  No retry in clear either. */
	early = io_buffered(&c->in);
	if (early) {
		*state = DEAD;
		tls_log("tls_failed", j, c, "bytes after the 220 to STARTTLS (response injection?)", "next host");
		c->r.code = 0;
		return host_fail(c, why, 0, "sent bytes after its 220 to STARTTLS, before TLS: response "
		                 "injection refused (4.7.0)");
	}
	*state = DEAD; /* the server speaks TLS now, or nothing */
	if (tlsreq_handshake(c->ctl, TLS_HANDSHAKE_S, &tls_rep, &twhy) == -1) {
		if (pol == TLS_MAY) {
			tls_log("tls_failed", j, c, twhy.s, "clear");
			c->r.code = 0;
			host_fail(c, why, "STARTTLS", twhy.s);
			return 3;
		}
		return tls_required(c, j, why, twhy.s, 0);
	}
	if ((pol == TLS_VERIFY || pol == TLS_DANE) && tls_rep.verified != 1) /* the engine checks; so do we */
		return tls_required(c, j, why, "the certificate was not verified", 0);
	if (tls_switch(c) == -1)
		return host_fail(c, why, "STARTTLS", "unable to use the TLS engine's pipes");
	tls_log("tls", j, c, 0, 0);
	*state = QUIT_IT;
	return 0;
}

static int ehlo(struct conn *c, struct job *j, struct str *why, enum after *state)
{
	if (put(c, "EHLO ") || put(c, j->helo) || put(c, "\r\n") || flush(c) || get(c)) {
		*state = DEAD;
		return host_fail(c, why, "EHLO", c->err);
	}
	if (c->r.code / 100 == 2) {
		ehlo_keywords(c);
		return 0;
	}
	if (c->tls) {
		/* HELO says nothing of STARTTLS, and inside TLS there is no going
		 * back to it: a server that refuses EHLO there is broken */
		*state = QUIT_IT;
		return host_fail(c, why, "EHLO", 0);
	}
	if (put(c, "HELO ") || put(c, j->helo) || put(c, "\r\n") || flush(c) || get(c)) {
		*state = DEAD;
		return host_fail(c, why, "HELO", c->err);
	}
	if (c->r.code / 100 != 2) {
		*state = QUIT_IT;
		return host_fail(c, why, "HELO", 0);
	}
	return 0;
}

/* The session's start: connect, greeting, EHLO (HELO if refused),
 * STARTTLS and EHLO again as control/remotetls asks (none when clear is
 * set: this address failed TLS moments ago under policy may), AUTH.
 * 0 ready for a transaction, else smtp_session's 1 or 2, or starttls's 3,
 * with why set; *state says whether the connection wants a QUIT before
 * it is closed. */
static int session_open(struct conn *c, struct job *j, const struct addr *a, int clear, struct str *why,
                        enum after *state)
{
	int rc;

	memset(c, 0, sizeof *c);
	c->fd = c->ctl = c->rfd = c->wfd = -1;
	c->a = a;
	/* the handshake failed moments ago under may: this session is the
	 * retry in clear */
	c->clear_why = clear ? "tls handshake failed" : 0;
	*state = DEAD;
	addr_fmt(a, c->ip, sizeof c->ip);
	if ((j->tls == TLS_DANE || j->tls == TLS_DANE_STS) && a->tlsa_temp)
		/* no answer on TLSA may be an attacker's doing: never clear */
		return host_fail(c, why, 0, "its TLSA records could not be looked up (policy dane, 4.7.5)");
	if (dial(c, j->timeout_connect) == -1) {
		const char *e = errno == ETIMEDOUT ? "connection timed out" :
		                errno == ECONNREFUSED ? "connection refused" :
		                errno == ENETUNREACH || errno == EHOSTUNREACH ? "unreachable" :
		                "unable to connect";
		return host_fail(c, why, 0, e);
	}
	c->live = 1;
	io_init(&c->in, c->fd, c->ibuf, sizeof c->ibuf);
	io_init(&c->out, c->fd, c->obuf, sizeof c->obuf);
	c->in.timeout_ms = c->out.timeout_ms = j->timeout_remote * 1000;

	if (get(c) == -1)
		return host_fail(c, why, "greeting", 0);
	if (c->r.code / 100 != 2) {
		*state = QUIT_IT;
		return host_fail(c, why, "greeting", 0);
	}
	if ((rc = ehlo(c, j, why, state)) != 0)
		return rc;
	if (tls_effective(j->tls, a) != TLS_NONE && !clear) {
		if ((rc = starttls(c, j, why, state)) != 0)
			return rc;
		if (c->tls && (rc = ehlo(c, j, why, state)) != 0)
			return rc;
	}
	if (j->auth) {
		if (!c->verified && !j->auth_clear) {
			/* main.c lets credentials through only for policy verify or
			 * a host in smtpauthplaintext: this is its twin at the
			 * point of sending, whatever the session turned out to be */
			c->r.code = 0;
			*state = QUIT_IT;
			return host_fail(c, why, 0, "credentials not sent: no TLS with a verified certificate, "
			                 "and the host is not in control/smtpauthplaintext (4.7.0)");
		}
		if (!c->auth_plain && !c->auth_login) {
			/* configured credentials are never dropped silently: a
			 * smarthost that wants them would refuse to relay, and
			 * the mail would bounce */
			c->r.code = 0; /* the text is ours, not the EHLO reply */
			*state = QUIT_IT;
			return host_fail(c, why, 0, "offers no AUTH PLAIN or LOGIN, and " AUTH_FILE
			                 " has credentials for it (4.7.0)");
		}
		rc = auth(j, c, why); /* it says QUIT itself when it gives up */
		if (rc)
			return rc;
	}
	*state = REUSE;
	return 0;
}

/* Under MTA-STS mode testing (RFC 8461 5): what enforce would have
 * refused at this session's host, for the attempt line.  The first fault
 * that enforce would have stopped at: a host its policy does not name is
 * not even tried, one in clear fails for want of TLS, one in TLS for its
 * certificate (postern-tlsio's policy t says why).  The reason comes
 * from the engine: only printable ASCII of it is kept, cut to fit. */
static void sts_verdict(const struct conn *c, struct job *j)
{
	const char *f = "";
	size_t n, i, k = 0;

	j->sts_failure[0] = 0;
	if (!c->a->sts_testing)
		return;
	if (!c->a->sts_named)
		f = "mx not in policy";
	else if (!c->tls)
		f = c->clear_why ? c->clear_why : "starttls not used";
	else if (!c->verified && !tls_rep.verify_error.len)
		f = "certificate not verified";
	else if (!c->verified) {
		n = tls_rep.verify_error.len;
		for (i = 0; i < n && k + 1 < sizeof j->sts_failure; i++) {
			char x = tls_rep.verify_error.s[i];
			if (x >= 0x20 && x < 0x7f)
				j->sts_failure[k++] = x;
		}
		j->sts_failure[k] = 0;
		return;
	}
	n = strnlen(f, sizeof j->sts_failure - 1);
	memcpy(j->sts_failure, f, n);
	j->sts_failure[n] = 0;
}

/* One message over an open session: MAIL, the RCPTs, DATA.  Returns 0 when
 * this host settled what it could of j, 1 when j should try the next
 * address (why says why).  *state: REUSE when the transaction ended
 * cleanly and another may follow, QUIT_IT when the session should end
 * with QUIT, DEAD when the connection is gone. */
static int transaction(struct conn *c, struct job *j, struct str *why, enum after *state)
{
	size_t i, accepted = 0, wsize;
	int pipelined;
	char num[FMT_ULONG + 1];

	*state = REUSE;
	tls_name_copy(j->tlsproto, sizeof j->tlsproto, c->tls ? &tls_rep.protocol : 0);
	sts_verdict(c, j);
	if (j->utf8 && !c->smtputf8) {
		static const char e[] = "does not support SMTPUTF8, which the addresses need (5.6.7)";
		settle_rest(j, 'D', c, 0, 0, e);
		return 0;
	}
	wsize = wire_size(j);
	if (c->sizemax && wsize > c->sizemax) {
		static const char e[] = "takes no message this large (5.3.4)";
		settle_rest(j, 'D', c, 0, 0, e);
		return 0;
	}
	num[fmt_ulong(num, wsize)] = 0;
	pipelined = c->pipelining;
	if (put_path(c, "MAIL FROM:", j->sender, j->sender_len) ||
	    (c->size && (put(c, " SIZE=") || put(c, num))) ||
	    (j->eightbit && c->eightbitmime && put(c, " BODY=8BITMIME")) ||
	    (j->utf8 && put(c, " SMTPUTF8")) || put_params(c, j->mailparams, j->mailparams_len) ||
	    put(c, "\r\n"))
		goto lost;
	if (pipelined) {
		for (i = 0; i < j->n; i++)
			if (!j->st[i] && (put_path(c, "RCPT TO:", j->rcpt[i], j->rcpt_len[i]) ||
			                  put_params(c, j->rparams[i], j->rparams_len[i]) || put(c, "\r\n")))
				goto lost;
		if (put(c, "DATA\r\n"))
			goto lost;
	}
	if (flush(c) || get(c))
		goto lost;
	if (c->r.code / 100 != 2) {
		/* MAIL refused: 4xx tries the next host, 5xx fails the message.
		 * Pipelined RCPT and DATA answers are left unread: QUIT ends it.
		 * A 3xx is a reply out of step: the session is not used again. */
		*state = pipelined || c->r.code / 100 == 3 ? QUIT_IT : REUSE;
		if (c->r.code >= 500) {
			settle_rest(j, 'D', c, "MAIL FROM", &c->r, 0);
			j->talked = 1;
			return 0;
		}
		return host_fail(c, why, "MAIL FROM", 0);
	}
	j->talked = 1;
	for (i = 0; i < j->n; i++) {
		if (j->st[i])
			continue;
		if (!pipelined && (put_path(c, "RCPT TO:", j->rcpt[i], j->rcpt_len[i]) ||
		                   put_params(c, j->rparams[i], j->rparams_len[i]) || put(c, "\r\n") || flush(c)))
			goto lost_rcpt;
		if (get(c))
			goto lost_rcpt;
		if (c->r.code / 100 == 3) {
			/* a 354 here means a reply went missing: every reply after
			 * it would be taken for another command's */
			c->err = "replies out of step: a 3xx reply to RCPT TO";
			goto lost_rcpt;
		}
		if (c->r.code / 100 == 2) {
			j->st[i] = 'a'; /* accepted, result after DATA */
			accepted++;
		} else
			settle(j, i, class_of(c->r.code), c, "RCPT TO", &c->r, 0);
	}
	if (!pipelined) {
		if (!accepted) {
			*state = QUIT_IT; /* a transaction is open: end the session */
			return 0;
		}
		if (put(c, "DATA\r\n") || flush(c))
			goto lost_data;
	}
	if (get(c))
		goto lost_data;
	if (c->r.code != 354) {
		for (i = 0; i < j->n; i++)
			if (j->st[i] == 'a')
				settle(j, i, class_of(c->r.code < 400 ? 451 : c->r.code), c, "DATA", &c->r, 0);
		*state = QUIT_IT;
		return 0;
	}
	if (!accepted) {
		/* 354 with no recipient: end the empty message (RFC 2920 3.1) */
		if (!put(c, ".\r\n") && !flush(c))
			(void)get(c);
		*state = QUIT_IT;
		return 0;
	}
	sending(c, wsize);
	if (put_body(c, j->msg, j->msglen)) {
		send_failed(c);
		goto lost_data;
	}
	if (flush(c) || get(c))
		goto lost_data;
	for (i = 0; i < j->n; i++)
		if (j->st[i] == 'a') {
			char st = class_of(c->r.code);
			/* delivered to a server that was not handed the DSN
			 * request: postern-send reports "relayed" if asked
			 * (RFC 3461 6.2.7.2, doc/dsn.md) */
			if (st == 'K' && !c->dsn && j->rparams_len[i])
				st = 'R';
			settle(j, i, st, c, "end of DATA", &c->r, 0);
		}
	return 0; /* the transaction is over, whatever the reply: the session goes on */

lost:
	*state = DEAD;
	return host_fail(c, why, "MAIL FROM", c->err ? c->err : "lost the connection");
lost_rcpt:
lost_data:
	/* Recipients already answered keep their answer; accepted ones and
	 * the rest try again later: the message did not get through. */
	*state = DEAD;
	for (i = 0; i < j->n; i++)
		if (j->st[i] == 'a')
			j->st[i] = 0;
	settle_rest(j, 'Z', c, accepted ? "DATA" : "RCPT TO", 0, c->err ? c->err : "lost the connection");
	return 0;
}

int job_settled(const struct job *j)
{
	size_t i;
	for (i = 0; i < j->n; i++)
		if (!j->st[i])
			return 0;
	return 1;
}

/* In TLS, closing the pipe we write into makes the engine send its
 * close_notify and end. */
static void session_close(struct conn *c, enum after state)
{
	if (!c->live)
		return;
	if (state != DEAD)
		quit(c);
	close_fd(&c->fd);
	close_fd(&c->wfd);
	close_fd(&c->rfd);
	close_fd(&c->ctl);
	c->live = 0;
	str_free(&c->r.text);
}

int smtp_session(struct job **js, size_t n, const struct addr *a, struct str *why,
                 void (*after_each)(void))
{
	static struct conn c;
	size_t k = 0;
	int rc = 0, clear = 0;

	while (k < n) {
		enum after state;
		int r;

		while (k < n && job_settled(js[k]))
			k++;
		if (k == n)
			break;
		r = session_open(&c, js[k], a, clear, why, &state);
		if (r == 3 && !clear) {
			/* policy may: the TLS handshake failed (logged); once more
			 * in clear, and in clear for the rest of this address */
			session_close(&c, state);
			clear = 1;
			continue;
		}
		if (r) {
			session_close(&c, state);
			return r == 3 ? 1 : r; /* the host failed: every job left tries the next address */
		}
		/* one connection for as many messages as end their transactions cleanly */
		for (; k < n; k++) {
			if (job_settled(js[k]))
				continue;
			if (transaction(&c, js[k], why, &state))
				rc = 1; /* this one tries the next address */
			if (after_each)
				after_each();
			if (state != REUSE) {
				k++;
				break;
			}
		}
		session_close(&c, state);
	}
	return rc;
}
