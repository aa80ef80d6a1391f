/* postern-popup: the AUTHORIZATION state of POP3 (RFC 1939) for one
 * connection.  It greets, offers STLS, takes a user name and a password
 * (USER and PASS, or AUTH PLAIN), and hands them with the connection to
 * postern-auth, which has postern-pop3d started as the user if they
 * match.  From then on the session is postern-pop3d's: postern-popup
 * exits without another byte.
 *
 * usage: postern-popup [-s]   (under postern-listen, as postern-pop3;
 *                              -s: implicit TLS, port 995, RFC 8314)
 *
 * It holds no secret but the one password it is given, for the moment it
 * takes to pass it on, reads nothing but control/, and writes no file.
 * Behaviour, replies and limits: doc/pop3.md and postern-popup(8). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>
#include "popup.h"
#include "authask.h"
#include "base64.h"
#include "case.h"
#include "die.h"
#include "io.h"
#include "log.h"

#define LINE_MAX_ 255      /* RFC 2449: a command, CRLF included */
#define SASL_LINE_MAX 2048 /* RFC 5034 4: a SASL response may be longer */
#define FAILURES_MAX 3     /* wrong passwords before we hang up */
#define ERRORS_MAX 10      /* refused commands of any kind */
#define FAIL_PAUSE_S 2     /* before saying a password was wrong */

static struct io in, out;
static char inbuf[4096], outbuf[4096];
static struct str line, user;
static const char *ip;
static int loopback, tls_on, have_user;
static int implicit; /* -s: TLS from the first byte (RFC 8314) */
static unsigned long long failures, errors;
static struct tls_report tls;

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

static _Noreturn void bye(const char *how)
{
	struct logline l = { STR_INIT };
	log_begin(&l, "disconnect");
	log_kv(&l, "ip", ip);
	log_kvu(&l, "failures", failures);
	log_kvu(&l, "errors", errors);
	log_kv(&l, "how", how);
	log_end(&l);
	(void)io_flush(&out);
	_exit(0);
}

/* A refused command: answered, counted, and the last one of too many ends
 * the session. */
static void refuse(const char *s)
{
	reply(s);
	if (++errors >= ERRORS_MAX)
		bye("errors");
}

/* A password may travel in clear only over loopback, or where the admin
 * said so (control/pop3plaintext). */
static int password_allowed(void) { return tls_on || loopback || cfg.plaintext; }

/* The bytes of a line that held a password, in our buffers: gone once it
 * has been tried.  All of the input buffer goes but what is still unread
 * (an earlier fill may have left a piece of it beyond len), and all of
 * line, which never moves (main makes it big enough for any line). */
static void wipe_read(void)
{
	explicit_bzero(in.buf, in.pos);
	explicit_bzero(in.buf + in.len, in.cap - in.len);
	if (line.s)
		explicit_bzero(line.s, line.cap);
}

/* The next line from the client, without its LF or CRLF, in line: 1; or
 * 0 when it was refused (too long, or bytes no command has). */
static int get_line(size_t max)
{
	int r;
	size_t i;

	line.len = 0;
	if (!io_buffered(&in))
		flush_out();
	r = io_getline(&in, &line, '\n', max);
	if (r == -2) {
		do { /* the rest of the line, without keeping it */
			line.len = 0;
			r = io_getline(&in, &line, '\n', max);
		} while (r == -2);
		if (r == 1) {
			wipe_read(); /* it may have been a password */
			refuse("-ERR line too long");
			return 0;
		}
	}
	if (r == 0)
		bye("eof");
	if (r == -1)
		bye(errno == ETIMEDOUT ? "timeout" : "read error");
	line.len--;
	if (line.len && line.s[line.len - 1] == '\r')
		line.len--;
	line.s[line.len] = 0;
	for (i = 0; i < line.len; i++)
		if ((unsigned char)line.s[i] < 32 || line.s[i] == 127) {
			wipe_read(); /* it may have been a password */
			refuse("-ERR control character in command");
			return 0;
		}
	return 1;
}

/* The password goes to postern-auth with the connection.  Nothing we have
 * read may be left over: it would be lost to postern-pop3d, or, worse,
 * taken as the user's. */
static void attempt(const char *name, size_t nlen, char *pass, size_t plen)
{
	struct str why = STR_INIT;
	struct logline l = { STR_INIT };
	char a;

	if (io_buffered(&in)) {
		refuse("-ERR [AUTH] nothing may follow the password before its answer");
		return;
	}
	flush_out();
	{
		int fds[2] = { in.fd, out.fd };
		a = auth_ask('P', name, nlen, pass, plen, ip, fds, 2, &why);
	}
	/* answered: the password is of no more use here, and a wrong one
	 * must not wait out the pause in our memory */
	explicit_bzero(pass, plen);
	wipe_read();
	log_begin(&l, a == 'K' ? "login" : a == 'N' ? "auth_failed" : a == 'Z' ? "auth_tempfail" : "auth_unknown");
	log_kvb(&l, "user", name, nlen);
	log_kv(&l, "ip", ip);
	log_kv(&l, "tls", tls_on ? "yes" : "no");
	if (a == 'Z' || a == 'U')
		log_kvb(&l, "why", why.s, why.len);
	log_end(&l);
	str_free(&why);
	/* K: postern-pop3d answers, and has the connection.  U: it may
	 * have; two readers of one connection would split the client's
	 * commands between them, so we go without a word. */
	if (a == 'K' || a == 'U')
		_exit(0);
	if (a == 'Z') {
		refuse("-ERR [SYS/TEMP] unable to log you in now; try again later");
		return;
	}
	{
		struct timespec t = { FAIL_PAUSE_S, 0 };
		while (nanosleep(&t, &t) == -1 && errno == EINTR)
			;
	}
	if (++failures >= FAILURES_MAX) {
		reply("-ERR [AUTH] authentication failed");
		bye("failures");
	}
	refuse("-ERR [AUTH] authentication failed");
}

static int plaintext_refused(void)
{
	if (password_allowed())
		return 0;
	refuse(tls_offer() ? "-ERR [AUTH] use STLS first" : "-ERR [AUTH] passwords are not taken in clear here");
	return 1;
}

static void do_capa(void)
{
	reply("+OK capability list follows");
	reply("TOP");
	reply("UIDL");
	reply("RESP-CODES");
	reply("AUTH-RESP-CODE");
	if (!tls_on && tls_offer())
		reply("STLS");
	if (password_allowed()) {
		reply("USER");
		reply("SASL PLAIN");
	}
	reply("IMPLEMENTATION postern");
	reply(".");
}

static void do_user(const char *a, size_t n)
{
	size_t at;

	if (plaintext_refused())
		return;
	if (!login_name(a, n, &at)) {
		refuse("-ERR [AUTH] not a valid user name");
		return;
	}
	if (!str_copyb(&user, a, n))
		die_nomem();
	have_user = 1;
	reply("+OK send PASS");
}

static void do_pass(char *a, size_t n)
{
	if (plaintext_refused())
		return;
	if (!have_user) {
		refuse("-ERR USER first");
		return;
	}
	have_user = 0;
	if (n == 0 || n > PASSWORD_MAX) {
		refuse("-ERR [AUTH] authentication failed");
		return;
	}
	attempt(user.s, user.len, a, n);
	wipe_read();
}

/* AUTH PLAIN (RFC 4616, RFC 5034): base64 of authzid NUL authcid NUL
 * password, on the command line or after a "+ ". */
static void do_auth(const char *a, size_t n)
{
	unsigned char raw[2 * LOGINNAME_MAX + PASSWORD_MAX + 2];
	const char *resp;
	size_t rlen, len, i, z1, z2, at;

	if (n == 0) { /* the list of mechanisms, as clients of RFC 1734 ask */
		reply("+OK");
		if (password_allowed())
			reply("PLAIN");
		reply(".");
		return;
	}
	for (i = 0; i < n && a[i] != ' '; i++)
		;
	if (!case_eqb(a, i, "PLAIN", 5)) {
		refuse("-ERR unsupported authentication mechanism");
		return;
	}
	if (plaintext_refused())
		return;
	if (i < n) {
		resp = a + i + 1;
		rlen = n - i - 1;
	} else {
		reply("+ ");
		if (!get_line(SASL_LINE_MAX))
			return;
		resp = line.s;
		rlen = line.len;
	}
	if (rlen == 1 && resp[0] == '*') {
		refuse("-ERR authentication cancelled");
		return;
	}
	if (rlen == 1 && resp[0] == '=')
		rlen = 0; /* an empty response: no name, no password */
	if (b64_decode(resp, rlen, raw, sizeof raw, &len) == -1) {
		explicit_bzero(raw, sizeof raw);
		wipe_read();
		refuse("-ERR [AUTH] not a valid PLAIN response");
		return;
	}
	wipe_read();
	for (z1 = 0; z1 < len && raw[z1]; z1++)
		;
	for (z2 = z1 + 1; z2 < len && raw[z2]; z2++)
		;
	if (z1 >= len || z2 >= len || memchr(raw + z2 + 1, 0, len - z2 - 1) || !login_name((char *)raw + z1 + 1, z2 - z1 - 1, &at) ||
	    (z1 && (z1 != z2 - z1 - 1 || memcmp(raw, raw + z1 + 1, z1))) || len - z2 - 1 == 0 ||
	    len - z2 - 1 > PASSWORD_MAX) {
		explicit_bzero(raw, sizeof raw);
		/* an authzid other than the authcid asks to act as someone
		 * else, which nobody may */
		refuse("-ERR [AUTH] authentication failed");
		return;
	}
	for (i = z2 + 1; i < len; i++)
		if (raw[i] < 32 || raw[i] == 127) {
			/* as in a PASS line: no such password is ever set
			 * (postern-passwd refuses them) */
			explicit_bzero(raw, sizeof raw);
			refuse("-ERR [AUTH] authentication failed");
			return;
		}
	attempt((char *)raw + z1 + 1, z2 - z1 - 1, (char *)raw + z2 + 1, len - z2 - 1);
	explicit_bzero(raw, sizeof raw);
}

static void log_tls(const char *event, size_t discarded, const struct str *why)
{
	struct logline l = { STR_INIT };
	log_begin(&l, event);
	log_kv(&l, "ip", ip);
	if (why)
		log_kvb(&l, "why", why->s, why->len);
	else {
		log_kvb(&l, "protocol", tls.protocol.s, tls.protocol.len);
		log_kvb(&l, "cipher", tls.cipher.s, tls.cipher.len);
	}
	if (discarded)
		log_kvu(&l, "discarded", discarded);
	log_end(&l);
}

/* The handshake, and from then on the engine's pipes in place of fds 0
 * and 1, which become /dev/null: no later write can reach the client
 * past TLS.  The pipe we write is non-blocking, so that a client that
 * stops reading cannot hold us past our timeouts (io_flush waits for
 * room within them). */
static void switch_to_tls(size_t discarded)
{
	struct str why = STR_INIT;
	int rfd, wfd, fl, null;

	if (tls_handshake(&tls, &rfd, &wfd, &why) == -1) {
		log_tls("tls_failed", discarded, &why);
		_exit(0); /* the client speaks TLS now, or nothing: no reply reaches it */
	}
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null == -1 || dup2(null, 0) == -1 || dup2(null, 1) == -1)
		die_sys(111, "fatal: unable to put /dev/null on fds 0 and 1");
	if (null > 2)
		(void)close(null);
	fl = fcntl(wfd, F_GETFL);
	if (fl == -1 || fcntl(wfd, F_SETFL, fl | O_NONBLOCK) == -1)
		die_sys(111, "fatal: unable to make the TLS pipe non-blocking");
	in.fd = rfd;
	out.fd = wfd;
	tls_on = 1;
	log_tls("tls", discarded, 0);
}

/* STLS (RFC 2595), as STARTTLS in postern-smtpd (doc/tls.md). */
static void do_stls(size_t n)
{
	struct str why = STR_INIT;
	size_t discarded;

	if (n) {
		refuse("-ERR STLS takes no argument");
		return;
	}
	if (tls_on) {
		refuse("-ERR TLS is already on");
		return;
	}
	if (!tls_offer()) {
		refuse("-ERR [SYS/TEMP] TLS is not available");
		return;
	}
	if (tls_begin(&why) == -1) {
		log_tls("tls_unavailable", 0, &why);
		refuse("-ERR [SYS/TEMP] TLS is not available now");
		return;
	}
	reply("+OK begin TLS negotiation");
	flush_out();
	/* CVE-2011-0411: what came after STLS came in clear; taken as commands
	 * after the handshake, it would pass for what the client said in TLS */
	discarded = io_buffered(&in);
	explicit_bzero(in.buf, in.len);
	in.pos = in.len = 0;
	switch_to_tls(discarded);
	have_user = 0; /* RFC 2595 4: nothing said before counts */
}

/* What a connection that cannot be served is told at start: nothing at
 * all under -s, where the client waits for a handshake, not for text. */
static void startup_refusal(const char *text)
{
	if (implicit)
		return;
	reply(text);
	flush_out();
}

/* Who is on the other end: postern-listen's UCSPI environment. */
static void setup_client(void)
{
	unsigned char bin[16];
	int v6;

	ip = getenv("TCPREMOTEIP");
	if (!ip) {
		startup_refusal("-ERR [SYS/PERM] server misconfigured");
		die(111, "fatal: TCPREMOTEIP is not set: run me under postern-listen");
	}
	v6 = strchr(ip, ':') != 0;
	if (strlen(ip) > REMOTEIP_MAX || inet_pton(v6 ? AF_INET6 : AF_INET, ip, bin) != 1) {
		startup_refusal("-ERR [SYS/PERM] server misconfigured");
		die(111, "fatal: TCPREMOTEIP is not an IP address");
	}
	loopback = remote_ip_loopback(bin, v6);
}

int main(int argc, char **argv)
{
	struct logline l = { STR_INIT };

	progname = "postern-popup";
	implicit = argc == 2 && !strcmp(argv[1], "-s");
	if (argc > 1 && !implicit)
		die_usage("postern-popup [-s]");
	/* every session runs as the same user and holds a password for a
	 * moment: no session may ptrace or read another (SECURITY) */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		die_sys(111, "fatal: unable to make myself undumpable");
	io_init(&in, 0, inbuf, sizeof inbuf);
	io_init(&out, 1, outbuf, sizeof outbuf);
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		die_sys(111, "fatal: unable to ignore SIGPIPE");
	/* Non-blocking, so that a client that stops reading cannot hold a
	 * write past our limits (io_flush waits for room within them); fd 0
	 * is usually the same socket, and io_fill waits again when a read
	 * finds nothing. */
	{
		int fl = fcntl(1, F_GETFL);
		if (fl == -1 || fcntl(1, F_SETFL, fl | O_NONBLOCK) == -1)
			die_sys(111, "fatal: unable to make fd 1 non-blocking");
	}
	/* line never moves, so that wipe_read finds every byte of a password */
	if (!str_ready(&line, SASL_LINE_MAX + 1))
		die_nomem();
	setup_client();
	if (geteuid() == 0 || getuid() == 0) {
		startup_refusal("-ERR [SYS/PERM] server misconfigured");
		die(111, "fatal: refusing to talk to the network as root: run me as postern-pop3");
	}
	if (config_load() == -1) {
		startup_refusal("-ERR [SYS/TEMP] temporary configuration problem; try again later");
		die(111, "fatal: unable to read control files");
	}
	/* each read and write waits at most timeoutpop3, and the whole login
	 * at most timeoutpop3login: a client that has not logged in has no
	 * claim to RFC 1939's ten minutes */
	in.timeout_ms = out.timeout_ms = (int)(cfg.timeout * 1000);
	io_deadline(&in, cfg.login * 1000);
	io_deadline(&out, cfg.login * 1000);
	log_begin(&l, "connect");
	log_kv(&l, "ip", ip);
	log_kvu(&l, "pid", (unsigned long long)getpid());
	if (implicit)
		log_kv(&l, "tls", "implicit");
	log_end(&l);
	/* Implicit TLS (RFC 8314): the handshake comes first, and the
	 * greeting inside it.  Without an engine there is nothing the client
	 * could read. */
	if (implicit) {
		struct str why = STR_INIT;
		if (tls_begin(&why) == -1) {
			log_tls("tls_unavailable", 0, &why);
			bye("no tls");
		}
		switch_to_tls(0);
	}
	if (io_puts(&out, "+OK ") == -1 || io_put(&out, cfg.me.s, cfg.me.len) == -1)
		_exit(0);
	reply(" POP3 server ready");

	for (;;) {
		size_t vlen, arg;
		char *a;

		if (!get_line(LINE_MAX_))
			continue;
		for (vlen = 0; vlen < line.len && line.s[vlen] != ' '; vlen++)
			;
		arg = vlen < line.len ? vlen + 1 : vlen;
		a = line.s + arg;
#define IS(v) case_eqb(line.s, vlen, v, sizeof v - 1)
		if (IS("CAPA"))
			do_capa();
		else if (IS("USER"))
			do_user(a, line.len - arg);
		else if (IS("PASS"))
			do_pass(a, line.len - arg);
		else if (IS("AUTH"))
			do_auth(a, line.len - arg);
		else if (IS("STLS"))
			do_stls(line.len - arg);
		else if (IS("QUIT")) {
			reply("+OK bye");
			bye("quit");
		} else if (IS("APOP"))
			refuse("-ERR APOP is not supported");
		else
			refuse("-ERR not a command before login");
#undef IS
		/* whatever the command was (a refused PASS or AUTH too), its
		 * bytes go now */
		wipe_read();
	}
}
