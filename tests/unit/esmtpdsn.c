/* src/lib/esmtpdsn.c: xtext, the values of NOTIFY, RET, ENVID and ORCPT
 * (RFC 3461), and the parameters postern-remote passes on: what every
 * program that carries a DSN request checks it with (doc/dsn.md). */
#include <string.h>
#include "check.h"
#include "esmtpdsn.h"

#define S(lit) (lit), sizeof(lit) - 1

/* xtext_encode then xtext_decode gives back n bytes of s, and the
 * encoding is xtext */
static int round_trip(const char *s, size_t n)
{
	struct str x = STR_INIT, back = STR_INIT;
	int ok = xtext_encode(&x, s, n) && (n == 0 || xtext_ok(x.s, x.len)) && xtext_decode(&back, x.s, x.len) &&
	         back.len == n && (n == 0 || memcmp(back.s, s, n) == 0);
	str_free(&x);
	str_free(&back);
	return ok;
}

static int encodes(const char *s, size_t n, const char *want)
{
	struct str x = STR_INIT;
	int ok = xtext_encode(&x, s, n) && x.len == strlen(want) && memcmp(x.s, want, x.len) == 0;
	str_free(&x);
	return ok;
}

static int decodes(const char *s, size_t n, const char *want, size_t wl)
{
	struct str x = STR_INIT;
	int ok = xtext_decode(&x, s, n) && x.len == wl && memcmp(x.s, want, wl) == 0;
	str_free(&x);
	return ok;
}

static int canonical(unsigned bits, const char *want)
{
	struct str x = STR_INIT;
	int ok = dsn_notify_cat(&x, bits) && x.len == strlen(want) && memcmp(x.s, want, x.len) == 0;
	str_free(&x);
	return ok;
}

static int mail_params(int ret, const char *envid, const char *want)
{
	struct str x = STR_INIT;
	int ok = dsn_mail_params(&x, ret, envid, strlen(envid)) && x.len == strlen(want) &&
	         (x.len == 0 || memcmp(x.s, want, x.len) == 0) && dsn_params_ok(x.s ? x.s : "", x.len, 0);
	str_free(&x);
	return ok;
}

static int rcpt_params(unsigned notify, const char *orcpt, const char *want)
{
	struct str x = STR_INIT;
	int ok = dsn_rcpt_params(&x, notify, orcpt, strlen(orcpt)) && x.len == strlen(want) &&
	         (x.len == 0 || memcmp(x.s, want, x.len) == 0) && dsn_params_ok(x.s ? x.s : "", x.len, 1);
	str_free(&x);
	return ok;
}

/* dsn_params_get finds key's value want, or (want 0) does not find key */
static int got(const char *s, size_t n, const char *key, const char *want)
{
	const char *v = 0;
	size_t vl = 0;
	int r = dsn_params_get(s, n, key, &v, &vl);

	if (!want)
		return r == 0;
	return r == 1 && vl == strlen(want) && memcmp(v, want, vl) == 0;
}

int main(void)
{
	char buf[DSN_ORCPT_MAX + 40];
	unsigned char all[256];
	size_t i;
	int ok;

	/* xtext_ok */
	CHECK(xtext_ok(S("<>")) && xtext_ok(S("a")) && xtext_ok(S("alice+40example.org")) && xtext_ok(S("+2B+3D")) &&
	      xtext_ok(S("!~")), "xtext: printable ASCII, +XX with upper-case hex");
	CHECK(!xtext_ok(S("")) && !xtext_ok(S("a=b")) && !xtext_ok(S("a b")) && !xtext_ok(S("a\tb")) &&
	      !xtext_ok(S("\x7f")) && !xtext_ok(S("\x80")) && !xtext_ok(S("a\0b")),
	      "xtext: empty, '=', space, TAB, DEL, 8-bit, NUL refused");
	CHECK(!xtext_ok(S("a+")) && !xtext_ok(S("a+4")) && !xtext_ok(S("+4g")) && !xtext_ok(S("+2b")) &&
	      !xtext_ok(S("+ab")) && !xtext_ok(S("++41")), "xtext: a short, lower-case or bad +XX refused");
	/* xtext_encode, xtext_decode */
	CHECK(encodes(S("a+b=c d"), "a+2Bb+3Dc+20d"), "encode: '+', '=' and space as +XX, upper case");
	CHECK(encodes(S("\xff\x00\n"), "+FF+00+0A") && encodes(S("<id@x>"), "<id@x>"), "encode: 8-bit, NUL, LF; printable kept");
	CHECK(decodes(S("a+2Bb+3Dc+20d"), S("a+b=c d")) && decodes(S("+00+FF"), S("\0\xff")), "decode: +XX to bytes");
	for (i = 0; i < sizeof all; i++)
		all[i] = (unsigned char)i;
	CHECK(round_trip((const char *)all, sizeof all), "round trip: every byte value");
	ok = 1;
	for (i = 0; i < 2000; i++) {
		char r[64];
		size_t n = rnd() % sizeof r, k;
		for (k = 0; k < n; k++)
			r[k] = (char)rnd();
		ok &= round_trip(r, n);
	}
	CHECK(ok, "round trip: 2000 random strings");

	/* NOTIFY */
	CHECK(dsn_notify_parse(S("NEVER")) == DSN_NOTIFY_NEVER && dsn_notify_parse(S("never")) == DSN_NOTIFY_NEVER,
	      "notify: NEVER, either case");
	CHECK(dsn_notify_parse(S("SUCCESS")) == DSN_NOTIFY_SUCCESS &&
	      dsn_notify_parse(S("delay,Failure,success")) == (DSN_NOTIFY_SUCCESS | DSN_NOTIFY_FAILURE | DSN_NOTIFY_DELAY) &&
	      dsn_notify_parse(S("FAILURE,DELAY")) == DSN_NOTIFY_DEFAULT, "notify: words in any order and case");
	CHECK(!dsn_notify_parse(S("")) && !dsn_notify_parse(S("NEVER,SUCCESS")) && !dsn_notify_parse(S("SUCCESS,NEVER")) &&
	      !dsn_notify_parse(S("SUCCESS,SUCCESS")) && !dsn_notify_parse(S("SUCCESS,")) && !dsn_notify_parse(S(",DELAY")) &&
	      !dsn_notify_parse(S("SUCCESS,,DELAY")) && !dsn_notify_parse(S("SUCCES")) && !dsn_notify_parse(S("SUCCESSX")) &&
	      !dsn_notify_parse(S("SUCCESS DELAY")) && !dsn_notify_parse(S("NEVERX")),
	      "notify: empty, NEVER with others, twice, empty word, unknown word refused");
	CHECK(canonical(DSN_NOTIFY_NEVER, "NEVER") && canonical(DSN_NOTIFY_DELAY | DSN_NOTIFY_SUCCESS, "SUCCESS,DELAY") &&
	      canonical(DSN_NOTIFY_DELAY | DSN_NOTIFY_FAILURE | DSN_NOTIFY_SUCCESS, "SUCCESS,FAILURE,DELAY"),
	      "notify: canonical form, upper case, SUCCESS FAILURE DELAY order");
	CHECK(dsn_notify_canonical(S("SUCCESS,DELAY")) == (DSN_NOTIFY_SUCCESS | DSN_NOTIFY_DELAY) &&
	      dsn_notify_canonical(S("NEVER")) == DSN_NOTIFY_NEVER, "notify: the canonical form is canonical");
	CHECK(!dsn_notify_canonical(S("DELAY,SUCCESS")) && !dsn_notify_canonical(S("never")) &&
	      !dsn_notify_canonical(S("Success")) && !dsn_notify_canonical(S("")), "notify: any other form is not");
	ok = 1;
	for (i = 1; i < 16; i++) {
		struct str x = STR_INIT;
		unsigned bits = (unsigned)i & DSN_NOTIFY_NEVER ? DSN_NOTIFY_NEVER : (unsigned)i;
		ok &= dsn_notify_cat(&x, bits) && dsn_notify_parse(x.s, x.len) == bits && dsn_notify_canonical(x.s, x.len) == bits;
		str_free(&x);
	}
	CHECK(ok, "notify: every combination written canonical and read back");

	/* RET, ENVID */
	CHECK(dsn_ret_parse(S("FULL")) == DSN_RET_FULL && dsn_ret_parse(S("hdrs")) == DSN_RET_HDRS &&
	      dsn_ret_parse(S("Full")) == DSN_RET_FULL, "ret: FULL and HDRS, either case");
	CHECK(!dsn_ret_parse(S("")) && !dsn_ret_parse(S("FUL")) && !dsn_ret_parse(S("FULLX")) && !dsn_ret_parse(S("HEADERS")),
	      "ret: anything else refused");
	memset(buf, 'e', sizeof buf);
	CHECK(dsn_envid_ok(buf, DSN_ENVID_MAX) && dsn_envid_ok(S("QQ314159+2B")), "envid: xtext up to 100 bytes");
	CHECK(!dsn_envid_ok(buf, DSN_ENVID_MAX + 1) && !dsn_envid_ok(S("")) && !dsn_envid_ok(S("a+2b")) &&
	      !dsn_envid_ok(S("a=b")), "envid: 101 bytes, empty, lower-case hex, '=' refused");

	/* ORCPT */
	CHECK(dsn_orcpt_ok(S("rfc822;a@b.example")) && dsn_orcpt_ok(S("RFC822;a+2Bb@c")) && dsn_orcpt_ok(S("utf-8;x")) &&
	      dsn_orcpt_ok(S("x-type2;y")), "orcpt: type ; xtext");
	CHECK(!dsn_orcpt_ok(S("rfc822a@b")) && !dsn_orcpt_ok(S(";a@b")) && !dsn_orcpt_ok(S("rfc822;")) &&
	      !dsn_orcpt_ok(S("rfc 822;a@b")) && !dsn_orcpt_ok(S("rfc_822;a@b")) && !dsn_orcpt_ok(S("rfc822;a b")) &&
	      !dsn_orcpt_ok(S("rfc822;a+2b")), "orcpt: no ';', no type, no address, bad type, bad xtext refused");
	memcpy(buf, "rfc822;", 7);
	memset(buf + 7, 'a', DSN_ORCPT_MAX + 1);
	CHECK(dsn_orcpt_ok(buf, 7 + DSN_ORCPT_MAX) && !dsn_orcpt_ok(buf, 8 + DSN_ORCPT_MAX), "orcpt: 500 bytes after ';', not 501");
	memset(buf, 'a', DSN_ADDRTYPE_MAX + 1);
	buf[DSN_ADDRTYPE_MAX] = ';';
	buf[DSN_ADDRTYPE_MAX + 1] = 'x';
	CHECK(dsn_orcpt_ok(buf, DSN_ADDRTYPE_MAX + 2), "orcpt: a 32-byte address type");
	memset(buf, 'a', DSN_ADDRTYPE_MAX + 1);
	buf[DSN_ADDRTYPE_MAX + 1] = ';';
	buf[DSN_ADDRTYPE_MAX + 2] = 'x';
	CHECK(!dsn_orcpt_ok(buf, DSN_ADDRTYPE_MAX + 3), "orcpt: a 33-byte one refused");

	/* the parameters passed on, and their check */
	CHECK(mail_params(0, "", "") && mail_params(DSN_RET_FULL, "", "RET=FULL") &&
	      mail_params(DSN_RET_HDRS, "id+2B1", "RET=HDRS ENVID=id+2B1") && mail_params(0, "x", "ENVID=x"),
	      "mail params: written, and dsn_params_ok takes them");
	CHECK(rcpt_params(0, "", "") && rcpt_params(DSN_NOTIFY_NEVER, "", "NOTIFY=NEVER") &&
	      rcpt_params(DSN_NOTIFY_DELAY | DSN_NOTIFY_SUCCESS, "rfc822;a@b", "NOTIFY=SUCCESS,DELAY ORCPT=rfc822;a@b") &&
	      rcpt_params(0, "rfc822;a@b", "ORCPT=rfc822;a@b"), "rcpt params: written, and dsn_params_ok takes them");
	CHECK(dsn_params_ok(S(""), 0) && dsn_params_ok(S(""), 1), "params: empty is nothing to pass on");
	CHECK(!dsn_params_ok(S("ENVID=x RET=FULL"), 0) && !dsn_params_ok(S("RET=FULL RET=FULL"), 0) &&
	      !dsn_params_ok(S("RET=full"), 0) && !dsn_params_ok(S("RET=FULL "), 0) && !dsn_params_ok(S(" RET=FULL"), 0) &&
	      !dsn_params_ok(S("RET=FULL  ENVID=x"), 0) && !dsn_params_ok(S("ENVID="), 0) && !dsn_params_ok(S("SIZE=1"), 0) &&
	      !dsn_params_ok(S("ENVID=a=b"), 0) && !dsn_params_ok(S("NOTIFY=NEVER"), 0),
	      "mail params refused: wrong order, twice, lower case, stray spaces, empty, unknown, bad xtext, RCPT's");
	CHECK(!dsn_params_ok(S("ORCPT=rfc822;a NOTIFY=NEVER"), 1) && !dsn_params_ok(S("NOTIFY=never"), 1) &&
	      !dsn_params_ok(S("NOTIFY=DELAY,SUCCESS"), 1) && !dsn_params_ok(S("ORCPT=a@b"), 1) &&
	      !dsn_params_ok(S("NOTIFY=NEVER\nRCPT TO:<x@y>"), 1) && !dsn_params_ok(S("RET=FULL"), 1),
	      "rcpt params refused: wrong order, not canonical, ORCPT without type, a line end, MAIL's");
	memset(buf, 'a', sizeof buf);
	memcpy(buf, "ORCPT=", 6);
	CHECK(!dsn_params_ok(buf, DSN_PARAMS_MAX + 1, 1), "params: over DSN_PARAMS_MAX refused");

	/* a value read back out (postern-local's forwards) */
	CHECK(got(S("NOTIFY=SUCCESS,DELAY ORCPT=rfc822;a@b"), "NOTIFY=", "SUCCESS,DELAY") &&
	      got(S("NOTIFY=SUCCESS,DELAY ORCPT=rfc822;a@b"), "ORCPT=", "rfc822;a@b") &&
	      got(S("ORCPT=rfc822;a@b"), "ORCPT=", "rfc822;a@b") && got(S("RET=HDRS ENVID=id+2B1"), "ENVID=", "id+2B1") &&
	      got(S("RET=HDRS ENVID=id+2B1"), "RET=", "HDRS"), "params: each value found, first or last");
	CHECK(got(S(""), "NOTIFY=", 0) && got(S("ORCPT=rfc822;a@b"), "NOTIFY=", 0) &&
	      got(S("ENVID=RET+3DFULL"), "RET=", 0), "params: a key that is not there, nor inside a value");
	return check_done();
}
