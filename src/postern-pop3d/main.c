/* postern-pop3d: the TRANSACTION and UPDATE states of POP3 (RFC 1939,
 * with RFC 2449's CAPA and response codes) for one user who has logged
 * in, on ~/Maildir.
 *
 * usage: postern-pop3d    (started by postern-pspawn: doc/pop3.md,
 *                          "postern-pspawn to postern-pop3d")
 *
 * fd 0 and 1 are the client (read and write side), fd 2 the log.  Started
 * as root it becomes POSTERN_IDENTITY's user before it reads anything
 * (identity.h, as postern-local does); started as anyone else it runs as
 * itself.  Then: HOME, ~/Maildir listed once, the +OK that answers the
 * client's password, one command after another, and at QUIT the UPDATE.
 *
 * Trust: this process is the user and holds nothing the user may not
 * see; a bug in it costs that user's mail at most.  The client is still
 * treated as hostile: every line is bounded, every number checked. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "pop3d.h"
#include "command.h"
#include "control.h"
#include "die.h"
#include "identity.h"
#include "io.h"
#include "log.h"
#include "loginname.h"
#include "maildrop.h"
#include "str.h"
#include "update.h"

#define USAGE "postern-pop3d"
#define CMD_MAX 255          /* RFC 2449 4: a command line, CRLF included */
#define TIMEOUT_MAX 86400

struct maildrop md;
struct io out;
struct tally tally;
static struct io in;
static char inbuf[8192], outbuf[65536];
static const char *user = "", *ip = "";

/* Before the maildrop is open the client waits for the answer to its
 * password: it gets this one text whatever went wrong, and the log says
 * what.  Written as it stands, with no buffer: we may still be root. */
static _Noreturn void refuse(int code, const char *why, int with_errno)
{
	static const char err[] = "-ERR [SYS/TEMP] unable to open your maildrop\r\n";
	int e = errno;
	struct logline l = { STR_INIT };

	(void)write_all(1, err, sizeof err - 1);
	log_begin(&l, "login_failed");
	log_kv(&l, "user", user);
	log_kv(&l, "ip", ip);
	log_kv(&l, "why", why);
	if (with_errno)
		log_kv(&l, "error", strerror(e));
	log_end(&l);
	_exit(code);
}

_Noreturn void end_session(const char *how, int code)
{
	struct logline l = { STR_INIT };

	log_begin(&l, "logout");
	log_kv(&l, "user", user);
	log_kvu(&l, "retrieved", tally.retrieved);
	log_kvu(&l, "deleted", tally.deleted);
	log_kvu(&l, "octets", tally.octets);
	log_kv(&l, "how", how);
	log_end(&l);
	_exit(code);
}

/* The connection to the client failed, errno says how: a client silent
 * or not reading for control/timeoutpop3, or gone, ends the session as
 * the client chose; anything else is an error here.  Either way without
 * the UPDATE (RFC 1939 6: only QUIT deletes), and an autologout without a
 * word (RFC 1939 3). */
_Noreturn void client_failed(void)
{
	if (errno == ETIMEDOUT)
		end_session("timeout", 0);
	if (errno == EPIPE || errno == ECONNRESET)
		end_session("eof", 0);
	end_session("error", 111);
}

void putb(const char *s, size_t n)
{
	if (io_put(&out, s, n) == -1)
		client_failed();
}

void put(const char *s) { putb(s, strlen(s)); }

void putu(unsigned long long u)
{
	if (io_putu(&out, u) == -1)
		client_failed();
}

void reply(const char *s)
{
	put(s);
	putb("\r\n", 2);
}

static void flush(void)
{
	if (io_flush(&out) == -1)
		client_failed();
}

/* r: io_getline's 0 (EOF) or -1. */
static _Noreturn void read_failed(int r)
{
	if (r == 0)
		end_session("eof", 0);
	client_failed();
}

/* One command line into line, without its LF or CRLF.  0: a line to run;
 * 1: a line too long, answered and read to its end.  The answers so far
 * go out before we wait for more, and not before: the commands a
 * pipelining client sent in one write get their answers in as few writes
 * as the buffer allows (RFC 2449 6.6). */
static int get_line(struct str *line)
{
	int r;

	line->len = 0;
	for (;;) {
		if (!io_buffered(&in))
			flush();
		r = io_getline(&in, line, '\n', CMD_MAX);
		if (r != -2)
			break;
		/* too long: its rest is read and dropped, never run */
		do {
			line->len = 0;
			r = io_getline(&in, line, '\n', CMD_MAX);
		} while (r == -2);
		if (r != 1)
			read_failed(r);
		reply("-ERR line too long");
		return 1;
	}
	if (r != 1)
		read_failed(r); /* at EOF a line without its LF is not run */
	line->len--;
	if (line->len && line->s[line->len - 1] == '\r')
		line->len--;
	return 0;
}

/* The UPDATE state, then the answer to QUIT (RFC 1939 6). */
static _Noreturn void quit(void)
{
	unsigned long long left = update_run(&md, "Maildir", &tally.deleted);

	if (left) {
		put("-ERR [SYS/TEMP] some deleted messages not removed (");
		putu(left);
		reply(" left)");
	} else
		reply("+OK postern POP3 server signing off");
	flush();
	end_session("quit", left ? 111 : 0);
}

int main(int argc, char **argv)
{
	static struct str line;
	unsigned long long timeout;
	const char *why, *home;
	struct command c;
	int flags;
	size_t at;

	progname = "postern-pop3d";
	(void)argv;
	/* first of all: root reads nothing, the client included */
	if ((why = identity_take()))
		refuse(111, why, 0);
	user = getenv("USER");
	home = getenv("HOME");
	ip = getenv("TCPREMOTEIP");
	if (!ip)
		ip = "";
	/* a login name (doc/pop3.md, "Names"): it stands in our answer */
	if (!user || !login_name(user, strlen(user), &at)) {
		user = "";
		refuse(100, "usage: USER missing or unusable", 0);
	}
	if (argc != 1 || !home || home[0] != '/')
		refuse(100, "usage: " USAGE " with USER and an absolute HOME", 0);
	/* a client gone while we write is a write error, not a signal */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		refuse(111, "unable to ignore SIGPIPE", 1);
	if (control_num("timeoutpop3", &timeout, 600) == -1 || timeout == 0 || timeout > TIMEOUT_MAX)
		refuse(111, "bad control/timeoutpop3", 0);
	if (chdir(home) == -1)
		refuse(111, "unable to enter HOME", 1);
	if (maildrop_open(&md, "Maildir") == -1)
		refuse(111, "unable to open Maildir", 1);

	io_init(&in, 0, inbuf, sizeof inbuf);
	io_init(&out, 1, outbuf, sizeof outbuf);
	in.timeout_ms = out.timeout_ms = (int)timeout * 1000;
	/* A client that stops reading must not hold a write of ours for ever:
	 * io's waits are bounded only when a write cannot block.  The open
	 * file is the client connection's, ours alone from now on (postern-
	 * popup has handed it over); when fd 0 shares it, get_line copes. */
	if ((flags = fcntl(1, F_GETFL)) == -1 || fcntl(1, F_SETFL, flags | O_NONBLOCK) == -1)
		refuse(111, "unable to make the client connection non-blocking", 1);

	{
		struct logline l = { STR_INIT };
		unsigned long long count, octets;
		live(&count, &octets);
		log_begin(&l, "login");
		log_kv(&l, "user", user);
		log_kv(&l, "ip", ip);
		log_kvu(&l, "messages", count);
		log_kvu(&l, "octets", octets);
		log_end(&l);
		if (md.skipped || md.unreadable) {
			log_begin(&l, "maildrop_partial");
			log_kv(&l, "user", user);
			log_kvu(&l, "listed", md.n);
			log_kvu(&l, "over_limit", md.skipped);
			log_kvu(&l, "unreadable", md.unreadable);
			log_end(&l);
		}
	}
	put("+OK ");
	put(user);
	put("'s maildrop has ");
	put_summary();
	reply("");

	for (;;) {
		if (get_line(&line))
			continue;
		switch (command_parse(line.s, line.len, &c)) {
		case CMD_UNKNOWN:
			reply("-ERR unknown command");
			continue;
		case CMD_SYNTAX:
			reply("-ERR syntax error");
			continue;
		}
		if (c.verb == V_QUIT)
			quit();
		command_run(&c);
	}
}
