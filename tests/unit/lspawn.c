/* postern-lspawn's rules (src/postern-lspawn/spawn.c) */
#include <string.h>
#include <sys/wait.h>
#include "check.h"
#include "postern-lspawn/spawn.c"

static int req(const char *job, const char *qid, const char *user, const char *ext, const char *rcpt,
               const char *sender)
{
	const char *f[6] = { job, qid, user, ext, rcpt, sender };
	size_t fl[6], i;
	for (i = 0; i < 6; i++)
		fl[i] = strlen(f[i]);
	return spawn_check(f, fl);
}

#define Q "1700000000.000001P1R0123456789abcdef"

int main(void)
{
	char out[TEXT_MAX + 64], st;
	size_t n;

	CHECK(req("1", Q, "alice", "", "alice@x.example", "") == 0, "good request");
	CHECK(req("1", Q, "alice", "a/b..c", "a/b..c@x.example", "#@[]") == 0, "odd ext and double-bounce sender");
	CHECK(req("", Q, "alice", "", "alice@x.example", "") == 1, "empty job");
	CHECK(req("1x", Q, "alice", "", "alice@x.example", "") == 1, "job not a number");
	CHECK(req("123456789012345678901", Q, "alice", "", "a@x.example", "") == 1, "job too long");
	CHECK(req("1", "../etc/passwd", "alice", "", "a@x.example", "") == 2, "qid with a path");
	CHECK(req("1", Q, "Alice", "", "a@x.example", "") == 3, "upper-case user");
	CHECK(req("1", Q, "-x", "", "a@x.example", "") == 3, "user starting with -");
	CHECK(req("1", Q, "a/b", "", "a@x.example", "") == 3, "user with /");
	CHECK(req("1", Q, "alice", "a\tb", "a@x.example", "") == 4, "control byte in ext");
	CHECK(req("1", Q, "alice", "", "no-at-sign", "") == 5, "bad recipient");
	CHECK(req("1", Q, "alice", "", "a@x.example", "bad sender") == 6, "bad sender");

	CHECK(spawn_user_allowed("root", 0, 1000, "postern-vmail", "postern-alias") == SPAWN_REFUSED, "root refused");
	CHECK(spawn_user_allowed("postern-alias", 0, 1000, "postern-vmail", "postern-alias") == SPAWN_REFUSED,
	      "uid 0 refused whatever its name");
	CHECK(spawn_user_allowed("daemon", 1, 1000, "postern-vmail", "postern-alias") == SPAWN_REFUSED, "below minuid");
	CHECK(spawn_user_allowed("postern-vmail", 990, 1000, "postern-vmail", "postern-alias") == SPAWN_VIRTUAL, "vmail");
	CHECK(spawn_user_allowed("postern-alias", 991, 1000, "postern-vmail", "postern-alias") == SPAWN_ALIAS, "alias");
	CHECK(spawn_user_allowed("alice", 1000, 1000, "postern-vmail", "postern-alias") == SPAWN_USER, "user");

	n = spawn_text("ok\n", 3, 0, out, &st);
	CHECK(st == 'K' && n == 2 && memcmp(out, "ok", 2) == 0, "exit 0: K, newline trimmed");
	n = spawn_text("no\0such\x01user\n", 13, 100 << 8, out, &st);
	CHECK(st == 'D' && n == 12 && memcmp(out, "no such user", 12) == 0, "exit 100: D, NUL and controls replaced");
	n = spawn_text("", 0, 111 << 8, out, &st);
	CHECK(st == 'Z' && n == 24 && memcmp(out, "postern-local exited 111", 24) == 0, "exit 111: Z, default text");
	n = spawn_text("", 0, 9, out, &st);
	CHECK(st == 'Z' && memcmp(out, "postern-local killed by signal 9", n) == 0, "signal: Z");
	{
		char big[5000];
		memset(big, 'x', sizeof big);
		n = spawn_text(big, sizeof big, 0, out, &st);
		CHECK(n == TEXT_MAX, "text bounded");
	}
	return check_done();
}
