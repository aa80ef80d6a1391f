/* postern-remote's bounded reply reader and smtproutes lookup, and
 * postern-rspawn's request and result rules. */
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include "check.h"
#include "postern-remote/reply.c"
#include "postern-remote/routes.c"
#include "postern-rspawn/rules.c"

static int feed(const char *data, size_t n, struct reply *r)
{
	static char buf[4096];
	struct io in;
	int p[2], rc;
	pid_t pid;
	if (pipe(p) == -1)
		return -9;
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		(void)!write_all(p[1], data, n);
		_exit(0);
	}
	close(p[1]);
	io_init(&in, p[0], buf, sizeof buf);
	in.timeout_ms = 5000;
	rc = reply_read(&in, r);
	close(p[0]);
	waitpid(pid, 0, 0);
	return rc;
}

int main(void)
{
	struct reply r = { 0, STR_INIT, 0 };
	struct str big = STR_INIT, q = STR_INIT, lines = STR_INIT, pl = STR_INIT, res = STR_INIT;
	struct route rt = { 0, STR_INIT, 25 };
	struct request rq;
	size_t i;

	CHECK(feed("250 ok\r\n", 8, &r) == 0 && r.code == 250 && str_equals(&r.text, "ok"), "one line");
	CHECK(feed("250-a\r\n250-PIPELINING\r\n250 SIZE 100\r\n", 37, &r) == 0 && r.code == 250 &&
	      r.text.len == 21, "multi-line reply kept whole");
	CHECK(feed("250-a\r\n251 b\r\n", 14, &r) == -1, "codes differ: refused");
	CHECK(feed("2x0 ok\r\n", 8, &r) == -1, "not three digits: refused");
	CHECK(feed("250 ok", 6, &r) == -1 && strcmp(r.err, "connection closed") == 0, "EOF mid-line");
	for (i = 0; i < 5000; i++)
		str_cats(&big, "x");
	str_copys(&q, "250 ");
	str_cat(&q, &big);
	str_cats(&q, "\r\n");
	CHECK(feed(q.s, q.len, &r) == -1 && strcmp(r.err, "reply line too long") == 0, "long line refused");
	q.len = 0;
	for (i = 0; i < 150; i++)
		str_cats(&q, "250-more\r\n");
	str_cats(&q, "250 end\r\n");
	CHECK(feed(q.s, q.len, &r) == -1 && strcmp(r.err, "reply with too many lines") == 0, "too many lines refused");
	CHECK(feed("550 5.1.1 no\r\n", 14, &r) == 0, "550 read");
	q.len = 0;
	reply_quote(&r, &q, 100);
	CHECK(str_equals(&q, "550 5.1.1 no"), "quote");

	str_catb(&lines, "a.example:mx.a.example\0.sub.example:[10.0.0.1]:2525\0:smart.example:587\0b.example:\0", 81);
	CHECK(route_find(&lines, "A.EXAMPLE", 9, &rt) == 1 && rt.found && str_equals(&rt.host, "mx.a.example") && rt.port == 25, "exact route");
	CHECK(route_find(&lines, "x.sub.example", 13, &rt) == 1 && str_equals(&rt.host, "[10.0.0.1]") && rt.port == 2525, "suffix route with port");
	CHECK(route_find(&lines, "other.example", 13, &rt) == 1 && str_equals(&rt.host, "smart.example") && rt.port == 587, "catch-all");
	CHECK(route_find(&lines, "b.example", 9, &rt) == 1 && rt.found && rt.host.len == 0, "empty host: MX");
	lines.len = 0;
	str_catb(&lines, "a.example:h:99999\0", 18);
	CHECK(route_find(&lines, "a.example", 9, &rt) == 0, "bad port refused");

	/* control/remotetls: the line that applies is smtproutes's */
	{
		enum tls_policy pol = TLS_NONE;
		const char *bad = 0;
		lines.len = 0;
		str_catb(&lines, ":encrypt\0.sub.example:none\0a.example:verify\0x.sub.example:may\0", 62);
		CHECK(tls_policy_find(&lines, "A.Example", 9, &pol, &bad) == 1 && pol == TLS_VERIFY, "remotetls: exact");
		CHECK(tls_policy_find(&lines, "x.sub.example", 13, &pol, &bad) == 1 && pol == TLS_MAY,
		      "remotetls: exact beats a suffix written before it");
		CHECK(tls_policy_find(&lines, "y.sub.example", 13, &pol, &bad) == 1 && pol == TLS_NONE, "remotetls: suffix");
		CHECK(tls_policy_find(&lines, "sub.example", 11, &pol, &bad) == 1 && pol == TLS_ENCRYPT,
		      "remotetls: a suffix is not the domain itself; the default applies");
		lines.len = 0;
		CHECK(tls_policy_find(&lines, "a.example", 9, &pol, &bad) == 1 && pol == TLS_MAY, "remotetls: empty: may");
		str_catb(&lines, "a.example:verify\0b.example:verfy\0", 33);
		CHECK(tls_policy_find(&lines, "a.example", 9, &pol, &bad) == 0 && bad && !strcmp(bad, "b.example:verfy"),
		      "remotetls: a misspelt policy on another domain's line refuses the file");
		{
			/* every word, in the enum's order; and a near miss */
			static const char *const words[] = { "none", "may", "encrypt", "verify", "dane", "sts", "dane-sts" };
			size_t k;
			int all = 1;
			for (k = 0; k < sizeof words / sizeof *words; k++) {
				lines.len = 0;
				str_cats(&lines, "a.example:");
				str_cats(&lines, words[k]);
				str_catz(&lines);
				all &= tls_policy_find(&lines, "a.example", 9, &pol, &bad) == 1 && pol == (enum tls_policy)k &&
				       !strcmp(tls_policy_name(pol), words[k]);
			}
			CHECK(all, "remotetls: none, may, encrypt, verify, dane, sts, dane-sts, each its own");
			lines.len = 0;
			str_catb(&lines, "a.example:dane+sts\0", 19);
			CHECK(tls_policy_find(&lines, "a.example", 9, &pol, &bad) == 0, "remotetls: dane+sts is no policy");
		}
		lines.len = 0;
		str_catb(&lines, "a.example verify\0", 17);
		CHECK(tls_policy_find(&lines, "a.example", 9, &pol, &bad) == 0, "remotetls: a line without ':' refused");
		lines.len = 0;
		str_catb(&lines, "a.example:\0", 11);
		CHECK(tls_policy_find(&lines, "a.example", 9, &pol, &bad) == 0, "remotetls: an empty policy refused");
		{
			static const char *const never[] = { "a.example :verify", "*.a.example:verify", "a.example.:verify",
			                                     ".:verify", "a..example:verify", "a/example:verify" };
			size_t k;
			for (k = 0; k < sizeof never / sizeof *never; k++) {
				lines.len = 0;
				str_catb(&lines, never[k], strlen(never[k]) + 1);
				CHECK(tls_policy_find(&lines, "a.example", 9, &pol, &bad) == 0 && bad == lines.s,
				      "remotetls: a key that could never match refuses the file");
			}
			lines.len = 0;
			str_catb(&lines, ".a.example:verify\0[192.0.2.1]:encrypt\0", 38);
			CHECK(tls_policy_find(&lines, "b.a.example", 11, &pol, &bad) == 1 && pol == TLS_VERIFY,
			      "remotetls: '.' and a domain, and an address literal, are keys");
		}
		CHECK(tls_policy_word("VERIFY") == -1 && tls_policy_word("none") == TLS_NONE, "remotetls: policy words are lower case");
	}

#define PL(lit) (pl.len = 0, str_catb(&pl, lit, sizeof lit - 1))
	PL("Ex.org\0" "7\0" "1700000000.1P1R1\0" "s@x.org\0" "\0" "2\0" "a@ex.ORG\0" "\0" "b@ex.org\0" "\0");
	CHECK(rspawn_parse(&pl, &rq) == 0 && rq.nm == 1 && rq.m[0].n == 2 && !strcmp(rq.m[0].rcpt[2], "b@ex.org") &&
	      rq.m[0].params[0] == 0 && rq.m[0].rcpt[3][0] == 0, "request of one message parses");
	PL("ex.org\0" "7\0" "1700000000.1P1R1\0" "s@x.org\0" "\0" "1\0" "a@ex.org\0" "\0"
	   "8\0" "1700000000.2P1R1\0" "\0" "\0" "2\0" "b@ex.org\0" "\0" "c@EX.org\0" "\0");
	CHECK(rspawn_parse(&pl, &rq) == 0 && rq.nm == 2 && !strcmp(rq.m[1].job, "8") && rq.m[1].n == 2 &&
	      rq.m[1].sender[0] == 0 && !strcmp(rq.m[1].rcpt[0], "b@ex.org") && !strcmp(rq.m[1].rcpt[2], "c@EX.org"),
	      "request of two messages parses");
	PL("ex.org\0" "7\0" "1700000000.1P1R1\0" "s@x.org\0" "\0" "1\0" "a@ex.org\0" "\0"
	   "7\0" "1700000000.2P1R1\0" "\0" "\0" "1\0" "b@ex.org\0" "\0");
	CHECK(rspawn_parse(&pl, &rq) != 0, "one job id twice refused");
	PL("ex.org\0" "7\0" "1700000000.1P1R1\0" "s@x.org\0" "\0" "2\0" "a@ex.org\0" "\0");
	CHECK(rspawn_parse(&pl, &rq) != 0, "fewer recipients than N refused");
	PL("ex.org\0" "7\0" "1700000000.1P1R1\0" "s@x.org\0" "\0" "2\0" "a@ex.org\0" "\0" "b@ex.org\0");
	CHECK(rspawn_parse(&pl, &rq) != 0, "a recipient without its parameters field refused");
	PL("ex.org\0" "7\0" "1700000000.1P1R1\0" "s@x.org\0" "\0" "1\0" "a@other.org\0" "\0");
	CHECK(rspawn_parse(&pl, &rq) != 0, "recipient of another domain refused");
	/* the old frame (no parameter fields) is not taken for the new one */
	PL("ex.org\0" "7\0" "1700000000.1P1R1\0" "s@x.org\0" "1\0" "a@ex.org\0");
	CHECK(rspawn_parse(&pl, &rq) != 0, "a frame without the parameter fields refused");

	/* the DSN parameters (doc/dsn.md, "Passing it on") */
	PL("ex.org\0" "7\0" "1700000000.1P1R1\0" "s@x.org\0" "RET=HDRS ENVID=abc+2B\0" "2\0"
	   "a@ex.org\0" "NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;a@b.c\0" "b@ex.org\0" "\0");
	CHECK(rspawn_parse(&pl, &rq) == 0 && rq.nm == 1 && rq.m[0].n == 2 && !strcmp(rq.m[0].params, "RET=HDRS ENVID=abc+2B") &&
	      !strcmp(rq.m[0].rcpt[0], "a@ex.org") && !strcmp(rq.m[0].rcpt[1], "NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;a@b.c") &&
	      !strcmp(rq.m[0].rcpt[2], "b@ex.org") && rq.m[0].rcpt[3][0] == 0, "MAIL and RCPT parameters parse");
	{
		static const char *const badmail[] = { "RET=hdrs", "ENVID=abc RET=FULL", "RET=FULL ", " RET=FULL",
		                                       "RET=FULL  ENVID=x", "ENVID=a\r\nRSET", "SIZE=10", "NOTIFY=NEVER",
		                                       "ENVID=a+2b", "RET=FULL RET=HDRS" };
		static const char *const badrcpt[] = { "NOTIFY=never", "NOTIFY=FAILURE,SUCCESS", "ORCPT=a@b.c",
		                                       "ORCPT=rfc822;a b", "RET=FULL", "NOTIFY=NEVER\nORCPT=rfc822;a",
		                                       "ORCPT=rfc822;x NOTIFY=NEVER", "NOTIFY=" };
		static const char head[] = "ex.org\0" "7\0" "1700000000.1P1R1\0" "s@x.org\0";
		static const char rest[] = "\0" "1\0" "a@ex.org\0" "\0";
		static const char head1[] = "ex.org\0" "7\0" "1700000000.1P1R1\0" "s@x.org\0" "\0" "1\0" "a@ex.org\0";
		size_t k;
		int allbad = 1;
		for (k = 0; k < sizeof badmail / sizeof *badmail; k++) {
			pl.len = 0;
			str_catb(&pl, head, sizeof head - 1);
			str_cats(&pl, badmail[k]);
			str_catb(&pl, rest, sizeof rest - 1);
			allbad &= rspawn_parse(&pl, &rq) != 0 && !strcmp(rspawn_parse(&pl, &rq), "bad MAILPARAMS");
		}
		CHECK(allbad, "bad MAIL parameters refused (lower case, order, blanks, CR LF, unknown keys, bad xtext)");
		allbad = 1;
		for (k = 0; k < sizeof badrcpt / sizeof *badrcpt; k++) {
			pl.len = 0;
			str_catb(&pl, head1, sizeof head1 - 1);
			str_cats(&pl, badrcpt[k]);
			str_catz(&pl);
			allbad &= rspawn_parse(&pl, &rq) != 0 && !strcmp(rspawn_parse(&pl, &rq), "bad RCPTPARAMS");
		}
		CHECK(allbad, "bad RCPT parameters refused (not canonical, no address type, blanks, wrong command's key)");
		/* the longest parameters there can be pass; one byte more does not */
		pl.len = 0;
		str_catb(&pl, head1, sizeof head1 - 1);
		str_cats(&pl, "NOTIFY=SUCCESS,FAILURE,DELAY ORCPT=");
		for (k = 0; k < DSN_ADDRTYPE_MAX; k++)
			str_catc(&pl, 'x');
		str_catc(&pl, ';');
		for (k = 0; k < DSN_ORCPT_MAX; k++)
			str_catc(&pl, 'y');
		str_catz(&pl);
		CHECK(rspawn_parse(&pl, &rq) == 0 && strlen(rq.m[0].rcpt[1]) == 35 + DSN_ADDRTYPE_MAX + 1 + DSN_ORCPT_MAX,
		      "the longest RCPT parameters parse");
		pl.s[pl.len - 1] = 'y';
		str_catz(&pl);
		CHECK(rspawn_parse(&pl, &rq) != 0, "an ORCPT one byte too long refused");
	}
	{
		size_t k;
		static const char one[] = "\0" "1700000000.1P1R1\0" "\0" "\0" "1\0" "a@ex.org\0" "\0";
		PL("ex.org\0");
		for (k = 0; k <= MSGS_MAX; k++) {
			str_catu(&pl, k + 1);
			str_catb(&pl, one, sizeof one - 1);
			if (k == MSGS_MAX - 1)
				CHECK(rspawn_parse(&pl, &rq) == 0 && rq.nm == MSGS_MAX, "REMOTE_BATCH_MAX messages parse");
			if (k == MSGS_MAX)
				CHECK(rspawn_parse(&pl, &rq) != 0, "one message more refused");
		}
	}
	{
		/* RCPTS_MAX recipients in one message: every field fits */
		size_t k;
		PL("ex.org\0" "7\0" "1700000000.1P1R1\0" "\0" "RET=FULL\0" "100\0");
		for (k = 0; k < RCPTS_MAX; k++) {
			str_catc(&pl, 'r');
			str_catu(&pl, k);
			str_catb(&pl, "@ex.org\0" "NOTIFY=NEVER\0", 21);
		}
		CHECK(rspawn_parse(&pl, &rq) == 0 && rq.m[0].n == RCPTS_MAX && !strcmp(rq.m[0].rcpt[2 * RCPTS_MAX - 2], "r99@ex.org") &&
		      !strcmp(rq.m[0].rcpt[2 * RCPTS_MAX - 1], "NOTIFY=NEVER"), "RCPTS_MAX recipients with parameters parse");
	}
	{
		size_t n[3] = { 1, 2, 1 }, st[3], ln[3];
		static const char out[] = "Ka\0Ksent\0Db\0Dc\0Kmsg\0Zd\0Zmsg\0";
		int exact;
		CHECK(rspawn_split(out, sizeof out - 1, n, 3, st, ln, &exact) == 3 && exact && st[1] == 9 && ln[1] == 11 &&
		      st[2] == 20, "output split per message");
		CHECK(rspawn_split(out, sizeof out - 2, n, 3, st, ln, &exact) == 2 && !exact,
		      "the last record cut: the two messages before it stand");
		CHECK(rspawn_split(out, 12, n, 3, st, ln, &exact) == 1 && !exact, "cut in the second message: the first stands");
		CHECK(rspawn_split(out, sizeof out - 1, n, 2, st, ln, &exact) == 2 && !exact, "records left over: not exact");
		CHECK(rspawn_split(out, 0, n, 3, st, ln, &exact) == 0 && !exact, "no output: nothing stands");
	}
	CHECK(rspawn_result(&res, "7", 2, "Kok\0Dno\0Ksent\0", 14, 0) == 1 &&
	      res.len == 19 && memcmp(res.s, "7\0K\0sent\0K\0ok\0D\0no\0", 18) == 0, "result frame");
	CHECK(rspawn_result(&res, "7", 2, "Kok\0", 4, 0) == 1 && memcmp(res.s, "7\0X\0", 4) == 0, "short output: X");
	CHECK(rspawn_result(&res, "7", 1, "Kok\0Kx\0", 7, 9) == 1 && strstr(res.s + 4, "killed by signal 9"), "signal: X");
	{
		static const char out[] = "Rrelayed\0Kok\0Dno\0Ksent\0", want[] = "7\0K\0sent\0R\0relayed\0K\0ok\0D\0no\0";
		CHECK(rspawn_result(&res, "7", 3, out, sizeof out - 1, 0) == 1 && res.len == sizeof want - 1 &&
		      memcmp(res.s, want, sizeof want - 1) == 0, "a recipient's R passed on unchanged");
	}
	CHECK(rspawn_result(&res, "7", 1, "Rok\0Ksent\0", 10, 0) == 1 && res.len == 14 &&
	      memcmp(res.s, "7\0K\0sent\0R\0ok\0", 14) == 0, "one recipient R, the message K");
	CHECK(rspawn_result(&res, "7", 1, "Kok\0Rsent\0", 10, 0) == 1 && memcmp(res.s, "7\0X\0", 4) == 0,
	      "R as the message's status: malformed, X");
	CHECK(rspawn_result(&res, "7", 1, "Aok\0Ksent\0", 10, 0) == 1 && memcmp(res.s, "7\0X\0", 4) == 0,
	      "an unknown status: malformed, X");
	str_free(&r.text);
	str_free(&big);
	str_free(&q);
	str_free(&lines);
	str_free(&pl);
	str_free(&res);
	str_free(&rt.host);
	return check_done();
}
