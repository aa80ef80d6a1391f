/* postern-smtpd's parser (linked from its source) and the cdb library. */
#include <string.h>
#include "check.h"
#include "postern-smtpd/parse.c"
#include "cdb.h"

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
	return check_done();
}
