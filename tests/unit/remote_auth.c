/* postern-remote's SMTP AUTH pieces: the bounded base64 encoder, the
 * credentials file's lines, the AUTH PLAIN response, the file checks. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"
#include "lib/base64.c"
#include "postern-remote/auth.c"

static int enc(const char *in, size_t n, const char *want)
{
	char out[64];
	size_t r = b64_encode((const unsigned char *)in, n, out, sizeof out);
	return r == strlen(want) && strcmp(out, want) == 0;
}

static int parse(const char *file, const char *host, struct creds *c, size_t *line)
{
	return auth_parse(file, strlen(file), host, strlen(host), c, line);
}

static int is(const char *b, size_t n, const char *s) { return n == strlen(s) && memcmp(b, s, n) == 0; }

static int load(const char *dir, const char *content, mode_t mode, const char *host, struct creds *c,
                struct str *why)
{
	char path[512];
	int fd;
	snprintf(path, sizeof path, "%s/secret/remote/smtpauth", dir);
	unlink(path);
	if (content) {
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
		if (fd == -1 || write(fd, content, strlen(content)) != (ssize_t)strlen(content) || close(fd) == -1)
			return -9;
		if (chmod(path, mode) == -1)
			return -9;
	}
	return auth_load(host, strlen(host), c, why);
}

int main(void)
{
	static struct creds c;
	struct str why = STR_INIT;
	size_t line;
	char out[AUTH_B64_MAX], small[8];
	char dir[] = "/tmp/remote_auth.XXXXXX", sub[600];
	const char long_pw[] = "h:u:";

	/* RFC 4648 section 10 vectors */
	CHECK(enc("", 0, ""), "base64 of the empty string");
	CHECK(enc("f", 1, "Zg=="), "base64 f");
	CHECK(enc("fo", 2, "Zm8="), "base64 fo");
	CHECK(enc("foo", 3, "Zm9v"), "base64 foo");
	CHECK(enc("foob", 4, "Zm9vYg=="), "base64 foob");
	CHECK(enc("fooba", 5, "Zm9vYmE="), "base64 fooba");
	CHECK(enc("foobar", 6, "Zm9vYmFy"), "base64 foobar");
	CHECK(enc("\xff\xfe\x00", 3, "//4A"), "base64 of high bytes and NUL");
	memset(small, 'X', sizeof small);
	CHECK(b64_encode((const unsigned char *)"foobar", 6, small, 8) == 0 && small[0] == 'X',
	      "base64 refuses an output one byte too small and writes nothing");
	CHECK(b64_encode((const unsigned char *)"fo", 2, small, 4) == 0, "fo needs 4 bytes and the NUL");
	{
		char exact[9];
		CHECK(b64_encode((const unsigned char *)"foobar", 6, exact, 9) == 8, "exact room is enough");
	}

	/* credential lines */
	CHECK(parse("relay.example.net:alice:s3cret\n", "relay.example.net", &c, &line) == 1 &&
	          is(c.user, c.ulen, "alice") && is(c.pass, c.plen, "s3cret"),
	      "host:user:password");
	CHECK(parse("RELAY.example.NET:alice:x\n", "relay.example.net", &c, &line) == 1,
	      "the host matches without regard to case");
	CHECK(parse("relay:bob:pa:ss w:rd \r\n", "relay", &c, &line) == 1 && is(c.pass, c.plen, "pa:ss w:rd "),
	      "the password is the rest of the line, ':' and blanks kept, CR cut");
	CHECK(parse("# comment\n\nother:u:p\nrelay:first:1\nrelay:second:2", "relay", &c, &line) == 1 &&
	          is(c.user, c.ulen, "first"),
	      "comments and blanks skipped; first line for the host wins; no final LF");
	CHECK(parse("other:u:p\n", "relay", &c, &line) == 0 && c.found == 0, "no line for the host: none");
	CHECK(parse("[fd99::10]:u:p:w\n", "[fd99::10]", &c, &line) == 1 && is(c.user, c.ulen, "u") &&
	          is(c.pass, c.plen, "p:w"),
	      "an IPv6 literal with ':' inside brackets");
	CHECK(parse("[IPv6:fd99::10]:u:p\n", "[ipv6:FD99::10]", &c, &line) == 1, "an [IPv6:...] literal");
	CHECK(parse("relay:u:p\nbroken line\n", "relay", &c, &line) == -1 && line == 2 && c.found == 0 &&
	          c.plen == 0,
	      "a malformed line anywhere: refused with its number, nothing kept");
	CHECK(parse("relay::p\n", "relay", &c, &line) == -1, "empty user refused");
	CHECK(parse("relay:u:\n", "relay", &c, &line) == -1, "empty password refused");
	CHECK(parse(":u:p\n", "relay", &c, &line) == -1, "empty host refused");
	CHECK(parse("relay:u\n", "relay", &c, &line) == -1, "two fields refused");
	CHECK(parse("[::1:u:p\n", "[::1", &c, &line) == -1, "an unclosed bracket refused");
	CHECK(auth_parse("relay:u:p\0q\n", 12, "relay", 5, &c, &line) == -1, "a NUL in a field refused");
	{
		static char f[2000];
		size_t k;
		memcpy(f, long_pw, 4);
		for (k = 0; k < 255; k++)
			f[4 + k] = 'p';
		f[4 + 255] = 0;
		CHECK(parse(f, "h", &c, &line) == 1 && c.plen == 255, "a 255-byte password is fine");
		f[4 + 255] = 'p';
		f[4 + 256] = 0;
		CHECK(parse(f, "h", &c, &line) == -1, "a 256-byte password is refused");
	}

	/* AUTH PLAIN: base64 of NUL user NUL password (RFC 4616 example) */
	CHECK(parse("relay:tim:tanstaaftanstaaf\n", "relay", &c, &line) == 1 &&
	          auth_plain_response(&c, out, sizeof out) == 28 &&
	          strcmp(out, "AHRpbQB0YW5zdGFhZnRhbnN0YWFm") == 0,
	      "AUTH PLAIN response as in RFC 4616");
	{
		static char f[600];
		size_t k, n = 0;
		f[n++] = 'h';
		f[n++] = ':';
		for (k = 0; k < 255; k++)
			f[n++] = 'u';
		f[n++] = ':';
		for (k = 0; k < 255; k++)
			f[n++] = 'p';
		f[n] = 0;
		CHECK(parse(f, "h", &c, &line) == 1 && auth_plain_response(&c, out, sizeof out) == 684,
		      "the longest credentials fit AUTH_B64_MAX");
	}
	auth_wipe(&c);
	CHECK(c.ulen == 0 && c.plen == 0 && c.pass[0] == 0 && c.found == 0, "auth_wipe zeroes the credentials");

	/* the plaintext list */
	{
		struct str l = STR_INIT;
		str_catb(&l, "[127.0.0.1]\0relay.example.net\0", 30);
		CHECK(auth_plaintext_ok(&l, "Relay.Example.Net", 17), "listed host may get credentials in clear");
		CHECK(!auth_plaintext_ok(&l, "relay.example", 13), "a prefix of a listed host is not listed");
		str_free(&l);
	}

	/* the file checks (as whoever runs the test: owner is this euid) */
	CHECK(mkdtemp(dir) != 0, "scratch dir");
	snprintf(sub, sizeof sub, "%s/secret", dir);
	mkdir(sub, 0755);
	snprintf(sub, sizeof sub, "%s/secret/remote", dir);
	mkdir(sub, 0700);
	setenv("POSTERN_HOME", dir, 1);
	CHECK(load(dir, 0, 0600, "relay", &c, &why) == 0, "absent file: no credentials");
	CHECK(load(dir, "relay:u:p\n", 0600, "relay", &c, &why) == 1 && is(c.pass, c.plen, "p"),
	      "mode 0600: read");
	CHECK(load(dir, "relay:u:p\n", 0400, "relay", &c, &why) == 1, "mode 0400: read");
	CHECK(load(dir, "relay:u:p\n", 0644, "relay", &c, &why) == -1 && c.found == 0 &&
	          strstr(why.s, "group or others") && strstr(why.s, "mode 0644"),
	      "mode 0644: refused, the mode named");
	CHECK(load(dir, "relay:u:p\n", 0640, "relay", &c, &why) == -1, "mode 0640: refused");
	CHECK(load(dir, "relay:u:p\n", 0602, "relay", &c, &why) == -1, "mode 0602: refused");
	CHECK(load(dir, "relay:u:p\nbad\n", 0600, "relay", &c, &why) == -1 && strstr(why.s, "line 2"),
	      "malformed line: refused with its number");
	{
		char path[600];
		snprintf(path, sizeof path, "%s/secret/remote/smtpauth", dir);
		unlink(path);
		snprintf(sub, sizeof sub, "%s/elsewhere", dir);
		{
			int fd = open(sub, O_WRONLY | O_CREAT, 0600);
			(void)!write(fd, "relay:u:p\n", 10);
			close(fd);
		}
		CHECK(symlink(sub, path) == 0 && auth_load("relay", 5, &c, &why) == -1 && strstr(why.s, "symbolic"),
		      "a symlink: refused");
		unlink(path);
		unlink(sub);
		if (geteuid() == 0) {
			load(dir, "relay:u:p\n", 0600, "relay", &c, &why);
			CHECK(chown(path, 65534, 65534) == 0 && auth_load("relay", 5, &c, &why) == -1 &&
			          strstr(why.s, "owned by neither"),
			      "owned by another user: refused");
		}
		unlink(path);
		snprintf(sub, sizeof sub, "%s/secret/remote", dir);
		rmdir(sub);
		snprintf(sub, sizeof sub, "%s/secret", dir);
		rmdir(sub);
		rmdir(dir);
	}
	str_free(&why);
	return check_done();
}
