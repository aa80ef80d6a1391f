/* src/lib/pem.c: objects, labels and base64 as RFC 7468 writes them
 * (64-character lines, CRLF or LF, a last line without its newline,
 * explanatory text between objects), every length from 0 to 300 bytes
 * round-tripped through the encoder, and each refusal: base64 that is
 * not, an END line with another label, none at all, a BEGIN inside an
 * object, labels too long or not printable.  Then Debian's CA bundle,
 * when the machine has it: every object a DER SEQUENCE of exactly its
 * decoded length, and the count of certificates what grep counts. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "check.h"
#include "pem.h"
#include "base64.h"
#include "file.h"

#define OBJECTS_MAX 8

static struct {
	char name[PEM_LABEL_MAX + 1];
	unsigned char der[400];
	size_t len;
} got[OBJECTS_MAX];
static size_t ngot;
static const char *say_stop; /* each's answer for the object after the first */

static const char *collect(void *ctx, const char *name, const struct str *der)
{
	(void)ctx;
	if (ngot && say_stop)
		return say_stop;
	if (ngot == OBJECTS_MAX || der->len > sizeof got[0].der || strlen(name) > PEM_LABEL_MAX)
		return "too much for the test";
	memcpy(got[ngot].name, name, strlen(name) + 1);
	memcpy(got[ngot].der, der->s, der->len);
	got[ngot].len = der->len;
	ngot++;
	return 0;
}

/* pem_walk over s: its result, why in whybuf */
static char whybuf[300];
static int walk(const char *s)
{
	struct str text = STR_INIT, der = STR_INIT, why = STR_INIT;
	int r;

	ngot = 0;
	whybuf[0] = 0;
	if (!str_copys(&text, s))
		abort();
	r = pem_walk(&text, &der, collect, 0, &why);
	if (r == -1 && why.s)
		snprintf(whybuf, sizeof whybuf, "%s", why.s);
	str_free(&text);
	str_free(&der);
	str_free(&why);
	return r;
}

static int one(const char *s, const char *name, const char *bytes, size_t n)
{
	return walk(s) == 0 && ngot == 1 && !strcmp(got[0].name, name) && got[0].len == n &&
	       memcmp(got[0].der, bytes, n) == 0;
}

static int refused(const char *s, const char *because)
{
	return walk(s) == -1 && strstr(whybuf, because) != 0;
}

/* raw (n bytes) as PEM with label, lines of width characters, eol after
 * each, into out */
static void encode(const unsigned char *raw, size_t n, const char *label, size_t width, const char *eol,
                   int last_eol, char *out, size_t size)
{
	char b64[512];
	size_t len = b64_encode(raw, n, b64, sizeof b64), i, o;

	o = (size_t)snprintf(out, size, "-----BEGIN %s-----%s", label, eol);
	for (i = 0; i < len; i += width) {
		size_t w = len - i < width ? len - i : width;
		memcpy(out + o, b64 + i, w);
		o += w;
		o += (size_t)snprintf(out + o, size - o, "%s", eol);
	}
	o += (size_t)snprintf(out + o, size - o, "-----END %s-----%s", label, last_eol ? eol : "");
}

static void round_trips(void)
{
	unsigned char raw[300];
	char pem[1200];
	size_t n, i;
	int ok_lf = 1, ok_crlf = 1, ok_odd = 1, ok_noeol = 1;

	for (n = 0; n < sizeof raw; n++) {
		for (i = 0; i < n; i++)
			raw[i] = (unsigned char)rnd();
		encode(raw, n, "CERTIFICATE", 64, "\n", 1, pem, sizeof pem);
		ok_lf &= one(pem, "CERTIFICATE", (char *)raw, n);
		encode(raw, n, "PRIVATE KEY", 64, "\r\n", 1, pem, sizeof pem);
		ok_crlf &= one(pem, "PRIVATE KEY", (char *)raw, n);
		/* RFC 7468's lax parsers: lines of any length, a quad split */
		encode(raw, n, "X", 1 + n % 75, "\n", 1, pem, sizeof pem);
		ok_odd &= one(pem, "X", (char *)raw, n);
		encode(raw, n, "RSA PRIVATE KEY", 76, "\n", 0, pem, sizeof pem);
		ok_noeol &= one(pem, "RSA PRIVATE KEY", (char *)raw, n);
	}
	CHECK(ok_lf, "0 to 299 bytes, 64-character lines, LF");
	CHECK(ok_crlf, "0 to 299 bytes, CRLF");
	CHECK(ok_odd, "0 to 299 bytes, lines of 1 to 75 characters");
	CHECK(ok_noeol, "0 to 299 bytes, no newline after the END line");
}

/* Each object of the CA bundle: a certificate, a DER SEQUENCE (0x30)
 * whose length, short or long form, is exactly what was decoded. */
struct tally {
	size_t certs, shaped;
};

static const char *count(void *ctx, const char *name, const struct str *der)
{
	struct tally *t = ctx;
	const unsigned char *d = (const unsigned char *)der->s;
	size_t len = 0, head = 2, k;

	if (strcmp(name, "CERTIFICATE") != 0)
		return 0;
	t->certs++;
	if (der->len < 2 || d[0] != 0x30)
		return 0;
	if (d[1] < 0x80) {
		len = d[1];
	} else {
		size_t bytes = d[1] & 0x7f;
		if (bytes == 0 || bytes > 3 || der->len < 2 + bytes)
			return 0;
		for (k = 0; k < bytes; k++)
			len = len << 8 | d[2 + k];
		head += bytes;
	}
	if (head + len == der->len)
		t->shaped++;
	return 0;
}

static void bundle(void)
{
	struct str text = STR_INIT, der = STR_INIT, why = STR_INIT;
	struct tally t = { 0, 0 };
	size_t begins = 0;
	const char *p;
	int fd = open("/etc/ssl/certs/ca-certificates.crt", O_RDONLY);

	if (fd == -1 || read_fd(fd, &text, 8 << 20) == -1) {
		CHECK(1, "no CA bundle on this machine: skipped");
	} else {
		for (p = text.s; (p = strstr(p, "-----BEGIN CERTIFICATE-----")) != 0; p++)
			begins++;
		CHECK(pem_walk(&text, &der, count, &t, &why) == 0, "Debian's CA bundle is read");
		CHECK(begins >= 100 && t.certs == begins, "every certificate in it is an object");
		CHECK(t.shaped == t.certs, "each a DER SEQUENCE of exactly its decoded length");
	}
	if (fd != -1)
		(void)close(fd);
	str_free(&text);
	str_free(&der);
	str_free(&why);
}

int main(void)
{
	round_trips();
	CHECK(one("-----BEGIN A-----\nZm9v\n-----END A-----\n", "A", "foo", 3), "one object");
	CHECK(one("Subject: text before\n\n-----BEGIN A-----\nZm9v\n-----END A-----\ntext after\n", "A", "foo",
	          3),
	      "explanatory text before and after");
	CHECK(one("-----BEGIN A-----  \t\r\nZm 9v\r\n \t\n-----END A-----\t\r\n", "A", "foo", 3),
	      "blanks after the lines, inside the base64, blank lines");
	CHECK(one("-----BEGIN A-----\n-----END A-----\n", "A", "", 0), "an empty object");
	CHECK(one("-----BEGIN A-----\nZm9v\n-----END A-----", "A", "foo", 3), "END without a newline");
	CHECK(one("-----BEGIN A-----\nZm\n9v\n-----END A-----\n", "A", "foo", 3), "a quad across two lines");
	CHECK(one("-----BEGIN A-----\nZm8=\n-----END A-----\n", "A", "fo", 2), "padded");
	CHECK(one("-----BEGIN A-----\nZg==\n-----END A-----\n", "A", "f", 1), "padded twice");
	CHECK(one("-----BEGIN X509 CERTIFICATE-----\nZm9v\n-----END X509 CERTIFICATE-----\n", "X509 CERTIFICATE",
	          "foo", 3),
	      "a label with a blank");
	CHECK(one("-----BEGIN A-----\n\nZm9v\n-----END A-----\n", "A", "foo", 3), "a blank line after BEGIN");

	CHECK(walk("-----BEGIN A-----\nZm9v\n-----END A-----\nbetween\n-----BEGIN B-----\nYmFy\n-----END B-----\n") == 0 &&
	          ngot == 2 && !strcmp(got[0].name, "A") && !strcmp(got[1].name, "B") && got[1].len == 3 &&
	          !memcmp(got[1].der, "bar", 3),
	      "two objects, in order");
	CHECK(walk("") == 0 && ngot == 0, "an empty text: no object, no refusal");
	CHECK(walk("no PEM here\n-----\n----BEGIN A-----\n-----BEGIN -----\n") == 0 && ngot == 0,
	      "lines that are not BEGIN lines are text");
	CHECK(walk("-----BEGIN A------\nZm9v\n-----END A------\n") == 0 && ngot == 0,
	      "a label ending in a hyphen is no label");
	CHECK(walk("-----BEGIN  A-----\nZm9v\n-----END  A-----\n") == 0 && ngot == 0,
	      "a label starting with a blank is no label");
	CHECK(walk("-----BEGIN A\001-----\nZm9v\n-----END A\001-----\n") == 0 && ngot == 0,
	      "a control character in a label");
	{
		char longlabel[400];
		memset(longlabel, 'L', sizeof longlabel);
		snprintf(longlabel, sizeof longlabel, "-----BEGIN %0128d-----\nZm9v\n-----END %0128d-----\n", 0, 0);
		CHECK(walk(longlabel) == 0 && ngot == 0, "a label of 128 characters is not read");
		snprintf(longlabel, sizeof longlabel, "-----BEGIN %0127d-----\nZm9v\n-----END %0127d-----\n", 0, 0);
		CHECK(walk(longlabel) == 0 && ngot == 1 && strlen(got[0].name) == 127, "127 characters are");
	}

	CHECK(refused("-----BEGIN A-----\nZm9v\n", "the PEM object A has no END line"), "no END line");
	CHECK(refused("-----BEGIN A-----\nZm9v\n-----BEGIN B-----\nYmFy\n-----END B-----\n",
	              "the PEM object A has no END line"),
	      "a BEGIN inside an object");
	CHECK(refused("-----BEGIN A-----\nZm9v\n-----END B-----\n", "the PEM object A ends with another label"),
	      "an END with another label");
	CHECK(refused("-----BEGIN A-----\nZm9\n-----END A-----\n", "the PEM object A is not valid base64"),
	      "three characters left over");
	CHECK(refused("-----BEGIN A-----\nZm9v!\n-----END A-----\n", "is not valid base64"),
	      "a character outside the alphabet");
	CHECK(refused("-----BEGIN A-----\nZg==Zm9v\n-----END A-----\n", "is not valid base64"), "base64 after a pad");
	CHECK(refused("-----BEGIN A-----\nZh==\n-----END A-----\n", "is not valid base64"),
	      "bits left over under a pad");
	CHECK(refused("-----BEGIN A-----\nProc-Type: 4,ENCRYPTED\n\nZm9v\n-----END A-----\n", "not valid base64"),
	      "RFC 1421 headers (an encrypted key) are refused");
	say_stop = "a reason of the caller's";
	CHECK(refused("-----BEGIN A-----\nZm9v\n-----END A-----\n-----BEGIN B-----\nYmFy\n-----END B-----\n",
	              "a reason of the caller's") &&
	          ngot == 1,
	      "the caller's reason stops the walk");
	say_stop = 0;

	/* NULs inside the text: counted bytes, not a C string */
	{
		static const char t[] = "-----BEGIN A-----\nZm\09v\n-----END A-----\n";
		struct str text = STR_INIT, der = STR_INIT, why = STR_INIT;
		ngot = 0;
		CHECK(str_copyb(&text, t, sizeof t - 1) && pem_walk(&text, &der, collect, 0, &why) == -1 &&
		          strstr(why.s, "not valid base64"),
		      "a NUL inside the base64 is refused");
		str_free(&text);
		str_free(&der);
		str_free(&why);
	}

	bundle();
	return check_done();
}
