/* postern-smtpd's parser (linked from its source) and the cdb library. */
#include <string.h>
#include "check.h"
#include "postern-smtpd/parse.c"
#include "cdb.h"
#include "envelope.h"

static int path(const char *s, const char *kw, const char *want, int wantr)
{
	struct path p = { STR_INIT, 0, 0, 0 };
	size_t rest;
	int r = parse_path(s, strlen(s), kw, &p, &rest);
	int ok = r == wantr && (r != P_OK || (p.addr.len == strlen(want) && !memcmp(p.addr.s, want, p.addr.len)));
	str_free(&p.addr);
	return ok;
}

static size_t feed(const char *in, size_t n, int bdat, char *out, struct body *b)
{
	size_t used, o;
	body_init(b, bdat);
	o = body_feed(b, in, n, out, &used);
	out[o] = 0;
	return used;
}


/* The DSN parameters of one command line's parameter text, as do_mail
 * and do_rcpt take them: 1 all taken, else -1 with the refusal in why. */
static int dsn_line(const char *params, int rcpt, struct dsn_args *d, const char **why)
{
	size_t pos = 0, kl, vl, n = strlen(params);
	const char *k, *v;
	int r;

	dsn_args_init(d);
	*why = "";
	while ((r = parse_param(params, n, &pos, &k, &kl, &v, &vl)) == 1)
		if ((r = dsn_arg_take(d, rcpt, k, kl, v, vl, why)) != 1)
			return r == 0 ? (*why = "not DSN", -1) : -1;
	if (r == -1)
		*why = "syntax";
	return r == 0 ? 1 : -1;
}

/* The refusal of a bad DSN parameter text starts with want. */
static int dsn_refused(const char *params, int rcpt, const char *want)
{
	struct dsn_args d;
	const char *why;
	int ok = dsn_line(params, rcpt, &d, &why) == -1 && strncmp(why, want, strlen(want)) == 0;
	if (!ok)
		printf("# %s -> %s\n", params, why);
	return ok;
}

/* The envelope the MAIL parameters mail and one RCPT's rcpt make, between
 * F<a@b.example> and T<x@y.example>, is want byte for byte, and
 * envelope_parse (postern-queue's check) reads the same values back. */
static int dsn_envelope(const char *mail, const char *rcpt, const char *want, size_t wl)
{
	struct dsn_args dm, dr;
	struct envelope e;
	struct str env = STR_INIT;
	const char *why, *o;
	int ok = dsn_line(mail, 0, &dm, &why) == 1 && dsn_line(rcpt, 1, &dr, &why) == 1 &&
	         str_copys(&env, "Fa@b.example") && str_catz(&env) && dsn_records_cat(&env, &dm, 0) &&
	         dsn_records_cat(&env, &dr, 1) && str_cats(&env, "Tx@y.example") && str_catz(&env) && str_catz(&env) &&
	         env.len == wl && memcmp(env.s, want, wl) == 0;
	if (ok) {
		ok = envelope_parse(&e, env.s, env.len) == ENV_OK && e.ret == dm.ret && e.envid_len == dm.envid_len &&
		     envelope_notify(&e, 0) == (dr.notify ? dr.notify : DSN_NOTIFY_DEFAULT) &&
		     envelope_orcpt(&e, 0, &o) == dr.orcpt_len && memcmp(o, dr.orcpt ? dr.orcpt : "", dr.orcpt_len) == 0;
		envelope_free(&e);
	}
	if (!ok)
		printf("# [%s] [%s] -> [%.*s]\n", mail, rcpt, (int)env.len, env.s ? env.s : "");
	str_free(&env);
	return ok;
}
#define ENV(mail, rcpt, lit) dsn_envelope((mail), (rcpt), (lit), sizeof(lit) - 1)

int main(void)
{
	size_t arg;
	char out[256];
	struct body b;

	CHECK(parse_verb("mail FROM:<a@b>", 15, &arg) == V_MAIL && arg == 5, "verb without case, arg after one space");
	CHECK(parse_verb("MAILX", 5, &arg) == V_UNKNOWN, "verb must end at a space");
	CHECK(path("FROM:<a@b.example>", "from:", "a@b.example", P_OK), "plain path");
	CHECK(path("from: <a@b.example> SIZE=1", "from:", "a@b.example", P_OK), "blank after colon tolerated");
	CHECK(path("FROM:<>", "from:", "", P_OK), "null path");
	CHECK(path("TO:<\"bob\"@x.example>", "to:", "bob@x.example", P_OK), "quoted dot-atom unquoted");
	CHECK(path("TO:<\"a b\"@x.example>", "to:", "", P_QUOTED), "other quoted local part refused");
	CHECK(path("TO:<\"a@c\"@x.example>", "to:", "", P_QUOTEDAT), "quoted @ refused");
	CHECK(path("TO:<@a,@b:c@d>", "to:", "", P_ROUTE), "source route refused");
	CHECK(path("TO:<a@[1.2.3.4]>", "to:", "a@[1.2.3.4]", P_OK), "IPv4 literal");
	CHECK(path("TO:<a@[1.2.3.999]>", "to:", "", P_SYNTAX), "bad IPv4 literal");
	CHECK(path("TO:<a@[IPv6:::1]>", "to:", "a@[IPv6:::1]", P_OK), "IPv6 literal");
	CHECK(path("TO:<a..b@x>", "to:", "", P_SYNTAX), "double dot refused");
	CHECK(path("TO:<a@x", "to:", "", P_SYNTAX), "missing >");
	CHECK(path("TO:<a@x>junk", "to:", "", P_SYNTAX), "junk after >");
	CHECK(path("TO:<postmaster>", "to:", "postmaster", P_OK), "bare postmaster returned for the caller");
	CHECK(path("TO:<j\xc3\xb6rg@x>", "to:", "j\xc3\xb6rg@x", P_OK), "UTF-8 local part");
	CHECK(path("TO:<j\xc3\xc3@x>", "to:", "", P_BADUTF8), "malformed UTF-8");
	CHECK(utf8_valid("\xe0\x80\xaf", 3) == 0 && utf8_valid("\xed\xa0\x80", 3) == 0, "overlong and surrogate refused");
	{
		unsigned long long u; int last;
		CHECK(parse_bdat("123 LAST", 8, &u, &last) && u == 123 && last, "BDAT n LAST");
		CHECK(!parse_bdat("12x", 3, &u, &last) && !parse_bdat("99999999999999999999", 20, &u, &last), "bad BDAT sizes");
	}
	CHECK(line_is_bdat("BDAT", 4) && line_is_bdat("bdat 5", 6) && line_is_bdat("BDAT\t5", 6) &&
	      line_is_bdat("Bdat:5", 6) && line_is_bdat("BDAT5", 5), "a line that starts with the word BDAT");
	CHECK(!line_is_bdat("BDATX 5", 7) && !line_is_bdat("BDA", 3) && !line_is_bdat("DATA", 4) &&
	      !line_is_bdat(" BDAT 5", 7), "and lines that do not");
	CHECK(feed("a\r\n..b\r\n.\r\nMAIL", 15, 0, out, &b) == 11 && b.done && !strcmp(out, "a\n.b\n"), "DATA: unstuff, LF, stop after end");
	CHECK(feed("a\n.\nb\r\n.\r\n", 10, 0, out, &b) == 10 && b.done && b.bad, "\\n.\\n is no end, and marks bad");
	CHECK(feed("a\r.\r\nb", 6, 0, out, &b) && !b.done && b.bad, "\\r.\\r\\n is no end");
	CHECK(feed(".\r\n", 3, 0, out, &b) == 3 && b.done && out[0] == 0, "empty message");
	CHECK(feed("a\r\n.\r\n", 6, 1, out, &b) == 6 && !b.done && !strcmp(out, "a\n.\n"), "BDAT: dots are data");
	CHECK(feed("Received: x\r\nreceived: y\r\n\r\nReceived: z\r\n", 42, 1, out, &b) && b.hops == 2, "hops counted in the header only");
	/* The fields submission adds: where the header ends, and what it has. */
	{
		const char *m = "Subject: x\r\n\r\nDate: in the body\r\n\r\n.\r\n";
		size_t used, o, n = strlen(m);
		char all[256];
		body_init(&b, 0);
		b.stop_at_blank = 1;
		o = body_feed(&b, m, n, out, &used);
		CHECK(b.at_blank && used == 13 && o == 11 && !memcmp(out, "Subject: x\n", 11) && b.in_headers,
		      "stop_at_blank: stops with the blank line's CR taken, its LF left");
		CHECK(body_missing(&b) == (BODY_DATE | BODY_MSGID), "a header with neither lacks both");
		memcpy(all, out, o);
		b.at_blank = 0;
		{
			size_t u2, o2 = body_feed(&b, m + used, n - used, out, &u2);
			memcpy(all + o, out, o2);
			all[o + o2] = 0;
			CHECK(b.done && used + u2 == n && !b.at_blank && !strcmp(all, "Subject: x\n\nDate: in the body\n\n"),
			      "fed on: the rest as ever, no second stop at the body's blank line");
		}
		CHECK(body_missing(&b) == (BODY_DATE | BODY_MSGID), "a Date in the body is not the header's");
	}
	{
		struct { const char *m; int missing, stops; const char *what; } t[] = {
			{ "Date: x\r\nMessage-ID: <a@b>\r\n\r\nb\r\n.\r\n", 0, 1, "both there: nothing missing" },
			{ "DATE : x\r\nmessage-id:<a@b>\r\n\r\n.\r\n", 0, 1, "any case, the obsolete blank before the colon" },
			{ "Subject: a\r\n b\r\nDate: c\r\n\r\n.\r\n", BODY_MSGID, 1, "a continuation line is no field of its own" },
			{ "X-Date: x\r\nDates: y\r\nMessage-IDs: z\r\n\r\n.\r\n", BODY_DATE | BODY_MSGID, 1, "other names are other fields" },
			{ "hello world\r\n\r\n.\r\n", 0, 0, "a line that is no field: nothing is added" },
			{ "Subject: x\r\nno colon here\r\n\r\n.\r\n", 0, 0, "nor after one without a colon" },
			{ " x: y\r\n\r\n.\r\n", BODY_DATE | BODY_MSGID, 1, "a first line that starts with a blank: a continuation (it folds into the Received line above it)" },
			{ "Da\x01te: x\r\n\r\n.\r\n", 0, 0, "a control byte in a name: no field" },
			{ "\r\nbody\r\n.\r\n", BODY_DATE | BODY_MSGID, 1, "an empty header lacks both" },
		};
		size_t i;
		for (i = 0; i < sizeof t / sizeof t[0]; i++) {
			size_t used, at = 0, n = strlen(t[i].m);
			body_init(&b, 0);
			b.stop_at_blank = 1;
			while (!b.done && at < n) {
				body_feed(&b, t[i].m + at, n - at, out, &used);
				at += used;
				b.at_blank = 0;
			}
			CHECK(b.done && body_missing(&b) == t[i].missing, t[i].what);
			CHECK(b.stopped == t[i].stops, "and it stopped at the blank line only when the header was one");
		}
	}
	{
		size_t used;
		body_init(&b, 1);
		b.stop_at_blank = 1;
		body_feed(&b, "Subject: x\r\n\r", 13, out, &used);
		CHECK(!b.at_blank && used == 13, "BDAT: a chunk that ends with the blank line's CR: no stop yet");
		body_feed(&b, "\nbody", 5, out, &used);
		CHECK(b.at_blank && used == 0, "the next chunk's LF: the stop, nothing taken");
		b.at_blank = 0;
		body_feed(&b, "\nbody", 5, out, &used);
		CHECK(used == 5 && !b.at_blank && out[0] == '\n', "then on");
	}
	CHECK(feed("Subject: x\r\n.\r\n", 15, 0, out, &b) && b.done && b.in_headers && b.last_lf &&
	      body_missing(&b) == (BODY_DATE | BODY_MSGID), "a header and no body: still in it at the end, after a line end");
	CHECK(feed("Subject: x", 10, 1, out, &b) && b.in_headers && !b.last_lf, "BDAT ending inside a line: not after a line end");
	{
		struct cdb_make m = CDB_MAKE_INIT;
		struct str f = STR_INIT;
		struct cdb c;
		const char *d; size_t dl;
		int i, all = 1;
		char k[16];
		for (i = 0; i < 1000; i++) {
			k[0] = 'k'; k[1] = (char)('0' + i % 10); k[2] = (char)('0' + i / 10 % 10); k[3] = (char)('0' + i / 100);
			all &= cdb_make_add(&m, k, 4, k, 4);
		}
		all &= cdb_make_finish(&m, &f);
		c.map = (const unsigned char *)f.s;
		c.size = f.len;
		for (i = 0; i < 1000; i++) {
			k[0] = 'k'; k[1] = (char)('0' + i % 10); k[2] = (char)('0' + i / 10 % 10); k[3] = (char)('0' + i / 100);
			all &= cdb_find(&c, k, 4, &d, &dl) == 1 && dl == 4 && !memcmp(d, k, 4);
		}
		CHECK(all, "cdb: 1000 keys written and found");
		CHECK(cdb_find(&c, "nope", 4, 0, 0) == 0, "cdb: absent key");
		memset(f.s, 0xff, 8 * 256);
		CHECK(cdb_find(&c, "k000", 4, 0, 0) == -1, "cdb: corrupt header detected, no crash");
		cdb_make_free(&m);
		str_free(&f);
	}
	CHECK(xtext_ok("<>", 2) && xtext_ok("alice+40example.org", 19) && xtext_ok("a", 1), "xtext: <>, +40, a letter");
	CHECK(!xtext_ok("", 0) && !xtext_ok("a=b", 3) && !xtext_ok("a b", 3) && !xtext_ok("a+4", 3) &&
	      !xtext_ok("a+4g", 4) && !xtext_ok("a+4a", 4) && !xtext_ok("\x80", 1),
	      "xtext: empty, =, space, a short or lower-case or bad +XX, 8-bit");

	/* DSN parameters (RFC 3461, doc/dsn.md) */
	{
		struct dsn_args d;
		const char *why;
		char big[DSN_ORCPT_MAX + 64];

		CHECK(dsn_line("RET=hdrs ENVID=QQ314159", 0, &d, &why) == 1 && d.ret == DSN_RET_HDRS &&
		      d.envid_len == 8 && !memcmp(d.envid, "QQ314159", 8), "MAIL: RET (any case) and ENVID taken");
		CHECK(dsn_line("NOTIFY=delay,success ORCPT=rfc822;a+2Bb@c", 1, &d, &why) == 1 &&
		      d.notify == (DSN_NOTIFY_SUCCESS | DSN_NOTIFY_DELAY) && d.orcpt_len == 14, "RCPT: NOTIFY and ORCPT taken");
		CHECK(dsn_line("NOTIFY=NEVER", 0, &d, &why) == -1 && !strcmp(why, "not DSN") &&
		      dsn_line("RET=FULL", 1, &d, &why) == -1 && !strcmp(why, "not DSN") &&
		      dsn_line("SIZE=10", 0, &d, &why) == -1 && !strcmp(why, "not DSN"),
		      "each command's own parameters only; others left to the caller");
		CHECK(dsn_refused("RET=FULL RET=FULL", 0, "501 5.5.4 repeated RET") &&
		      dsn_refused("RET=FULL ret=hdrs", 0, "501 5.5.4 repeated RET") &&
		      dsn_refused("ENVID=a ENVID=b", 0, "501 5.5.4 repeated ENVID") &&
		      dsn_refused("NOTIFY=NEVER NOTIFY=NEVER", 1, "501 5.5.4 repeated NOTIFY") &&
		      dsn_refused("ORCPT=rfc822;a ORCPT=rfc822;a", 1, "501 5.5.4 repeated ORCPT"), "repeated: 501 5.5.4");
		CHECK(dsn_refused("RET=BODY", 0, "501 5.5.4 malformed RET") && dsn_refused("RET", 0, "501 5.5.4 malformed RET") &&
		      dsn_refused("ENVID=a+2b", 0, "501 5.5.4 malformed ENVID") &&
		      dsn_refused("ENVID", 0, "501 5.5.4 malformed ENVID") &&
		      dsn_refused("NOTIFY=NEVER,SUCCESS", 1, "501 5.5.4 malformed NOTIFY") &&
		      dsn_refused("NOTIFY=SUCCESS,SUCCESS", 1, "501 5.5.4 malformed NOTIFY") &&
		      dsn_refused("NOTIFY=", 1, "syntax") && dsn_refused("ORCPT=a@b", 1, "501 5.5.4 malformed ORCPT") &&
		      dsn_refused("ORCPT=rfc822;", 1, "501 5.5.4 malformed ORCPT"),
		      "malformed or empty: 501 5.5.4 (an empty value is parse_param's syntax error)");
		memset(big, 'e', sizeof big);
		memcpy(big, "ENVID=", 6);
		big[6 + DSN_ENVID_MAX] = 0;
		CHECK(dsn_line(big, 0, &d, &why) == 1 && d.envid_len == DSN_ENVID_MAX, "ENVID of 100 bytes taken");
		big[6 + DSN_ENVID_MAX] = 'e';
		big[7 + DSN_ENVID_MAX] = 0;
		CHECK(dsn_refused(big, 0, "501 5.5.4 malformed ENVID"), "ENVID of 101 bytes refused");
		memset(big, 'o', sizeof big);
		memcpy(big, "ORCPT=rfc822;", 13);
		big[13 + DSN_ORCPT_MAX] = 0;
		CHECK(dsn_line(big, 1, &d, &why) == 1 && d.orcpt_len == 7 + DSN_ORCPT_MAX, "ORCPT of 500 bytes after ';' taken");
		big[13 + DSN_ORCPT_MAX] = 'o';
		big[14 + DSN_ORCPT_MAX] = 0;
		CHECK(dsn_refused(big, 1, "501 5.5.4 malformed ORCPT"), "and of 501 refused");
		CHECK(ENV("", "", "Fa@b.example\0Tx@y.example\0\0"), "no DSN parameters: the qmail-queue envelope");
		CHECK(ENV("RET=full ENVID=id+2B1", "NOTIFY=Delay,failure,SUCCESS ORCPT=rfc822;x@y.example",
		          "Fa@b.example\0RFULL\0Eid+2B1\0NSUCCESS,FAILURE,DELAY\0Orfc822;x@y.example\0Tx@y.example\0\0"),
		      "all four: R E after F, N (canonical) O before T, envelope_parse agrees");
		CHECK(ENV("ENVID=e RET=hdrs", "ORCPT=x-t;q NOTIFY=never", "Fa@b.example\0RHDRS\0Ee\0NNEVER\0Ox-t;q\0Tx@y.example\0\0"),
		      "given in the other order: the records in theirs");
		CHECK(ENV("ENVID=e", "NOTIFY=FAILURE", "Fa@b.example\0Ee\0NFAILURE\0Tx@y.example\0\0") &&
		      ENV("RET=HDRS", "ORCPT=rfc822;q", "Fa@b.example\0RHDRS\0Orfc822;q\0Tx@y.example\0\0"),
		      "each record only if given");
	}
	return check_done();
}
