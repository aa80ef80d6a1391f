/* postern-lspawn's rules (src/postern-lspawn/spawn.c) */
#include <string.h>
#include <sys/wait.h>
#include "check.h"
#include "postern-lspawn/spawn.c"

/* a request of one message, with its DSN parameters */
static int reqp(const char *job, const char *qid, const char *user, const char *ext, const char *rcpt,
                const char *sender, const char *mailparams, const char *rcptparams)
{
	const char *f[8] = { user, job, qid, ext, rcpt, sender, mailparams, rcptparams };
	size_t fl[8], i;
	for (i = 0; i < 8; i++)
		fl[i] = strlen(f[i]);
	return spawn_check(f, fl, 8);
}

/* and without */
static int req(const char *job, const char *qid, const char *user, const char *ext, const char *rcpt,
               const char *sender)
{
	return reqp(job, qid, user, ext, rcpt, sender, "", "");
}

/* a request of n copies of one good message, the copy `bad` (if below n)
 * with an empty recipient */
static int reqn(size_t n, size_t bad)
{
	static const char *f[REQ_FIELDS + REQ_MSG_FIELDS];
	static size_t fl[REQ_FIELDS + REQ_MSG_FIELDS];
	size_t k, i;
	f[0] = "alice";
	for (k = 0; k < n; k++) {
		const char *m[REQ_MSG_FIELDS] = { "7", "1700000000.000001P1R0123456789abcdef", "",
		                                  k == bad ? "" : "a@x.example", "", "RET=FULL", "" };
		for (i = 0; i < REQ_MSG_FIELDS; i++)
			f[1 + REQ_MSG_FIELDS * k + i] = m[i];
	}
	for (i = 0; i < 1 + REQ_MSG_FIELDS * n; i++)
		fl[i] = strlen(f[i]);
	return spawn_check(f, fl, 1 + REQ_MSG_FIELDS * n);
}

#define Q "1700000000.000001P1R0123456789abcdef"

int main(void)
{

	CHECK(req("1", Q, "alice", "", "alice@x.example", "") == 0, "good request");
	CHECK(reqn(LOCAL_BATCH_MAX, LOCAL_BATCH_MAX) == 0, "a full batch");
	CHECK(reqn(LOCAL_BATCH_MAX + 1, LOCAL_BATCH_MAX + 1) == -1, "one message too many");
	CHECK(reqn(0, 0) == -1, "no message");
	CHECK(reqn(3, 2) == 1 + REQ_MSG_FIELDS * 2 + 4, "bad recipient in the third message: its field's index");
	CHECK(strcmp(spawn_field_name(1 + REQ_MSG_FIELDS * 2 + 4), "RECIPIENT") == 0, "named RECIPIENT");
	CHECK(strcmp(spawn_field_name(-1), "number of fields") == 0, "the count named");
	{
		const char *f[6] = { "alice", "1", Q, "", "a@x.example", "" };
		size_t fl[6] = { 5, 1, strlen(Q), 0, 11, 0 };
		CHECK(spawn_check(f, fl, 5) == -1, "a message without its sender");
		CHECK(spawn_check(f, fl, 6) == -1, "a message without its DSN parameters (the frame before DSN)");
	}
	CHECK(reqp("1", Q, "alice", "", "a@x.example", "", "RET=HDRS ENVID=id+2B1",
	           "NOTIFY=SUCCESS,DELAY ORCPT=rfc822;a+40b") == 0, "DSN parameters as postern-send writes them");
	CHECK(reqp("1", Q, "alice", "", "a@x.example", "", "NOTIFY=NEVER", "") == 7 &&
	      strcmp(spawn_field_name(7), "MAILPARAMS") == 0, "RCPT's parameter as MAILPARAMS: refused, and named");
	CHECK(reqp("1", Q, "alice", "", "a@x.example", "", "", "NOTIFY=never") == 8 &&
	      strcmp(spawn_field_name(8), "RCPTPARAMS") == 0, "a NOTIFY not in canonical form: refused, and named");
	CHECK(reqp("1", Q, "alice", "", "a@x.example", "", "RET=FULL\r\nRSET", "") == 7,
	      "a line end in the parameters: refused");
	CHECK(req("1", Q, "alice", "a/b..c", "a/b..c@x.example", "#@[]") == 0, "odd ext and double-bounce sender");
	CHECK(req("", Q, "alice", "", "alice@x.example", "") == 2, "empty job");
	CHECK(req("1x", Q, "alice", "", "alice@x.example", "") == 2, "job not a number");
	CHECK(req("123456789012345678901", Q, "alice", "", "a@x.example", "") == 2, "job too long");
	CHECK(req("1", "../etc/passwd", "alice", "", "a@x.example", "") == 3, "qid with a path");
	CHECK(req("1", Q, "Alice", "", "a@x.example", "") == 1, "upper-case user");
	CHECK(req("1", Q, "-x", "", "a@x.example", "") == 1, "user starting with -");
	CHECK(req("1", Q, "a/b", "", "a@x.example", "") == 1, "user with /");
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

	{
		static struct spawn_result r[LOCAL_BATCH_MAX];
		static char big[(TEXT_MAX + 3) * 2];
		const char *out = "K 2.0.0 delivered: 1 maildir\nD 5.1.1 no\001such address\nZ\n";
		spawn_results(out, strlen(out), 4, 0, r, 0);
		CHECK(r[0].st == 'K' && r[0].len == 26 && memcmp(r[0].text, "2.0.0 delivered: 1 maildir", 26) == 0,
		      "first line: K and its text");
		CHECK(r[1].st == 'D' && r[1].len == 21 && memcmp(r[1].text, "5.1.1 no such address", 21) == 0,
		      "second line: D, control byte made a space");
		CHECK(r[2].st == 'Z' && memcmp(r[2].text, "postern-local gave no result", r[2].len) == 0,
		      "a bare Z: the exit's text");
		CHECK(r[3].st == 'Z' && memcmp(r[3].text, "postern-local gave no result", r[3].len) == 0,
		      "no line at all and exit 0: Z, not K");
		spawn_results("K\n", 2, 1, 0, r, 0);
		CHECK(r[0].st == 'K' && r[0].len == 9 && memcmp(r[0].text, "delivered", 9) == 0, "a bare K: delivered");
		CHECK(spawn_results("H 2.0.0 delivered: 1 forward\nX\nh no\n", 36, 3, 0, r, 0) == 2 && r[0].st == 'H' &&
		      r[0].len == 26 && r[1].st == 'X' && r[1].len == 9 && memcmp(r[1].text, "delivered", 9) == 0 &&
		      r[2].st == 'Z', "H and X (a forward handed on, an expansion) are results too; a bare X is delivered; h is not");
		spawn_results("K ok\nQ forged\nK ok\n", 19, 3, 9, r, 0);
		CHECK(r[0].st == 'K' && r[1].st == 'Z' && r[2].st == 'Z', "after a malformed line nothing counts");
		CHECK(memcmp(r[1].text, "postern-local killed by signal 9", r[1].len) == 0, "signal named");
		spawn_results("K ok", 4, 1, 111 << 8, r, 0);
		CHECK(r[0].st == 'Z' && memcmp(r[0].text, "postern-local exited 111", r[0].len) == 0,
		      "a line without its newline does not count");
		memset(big, 'x', sizeof big);
		big[0] = 'K';
		big[1] = ' ';
		big[sizeof big - 1] = '\n';
		spawn_results(big, sizeof big, 1, 0, r, 0);
		CHECK(r[0].st == 'K' && r[0].len == TEXT_MAX, "text bounded");
		{
			/* a lingering child: its lines are read while it runs */
			const char *two = "K one\nD two\nR\n";
			size_t used = 99;
			CHECK(spawn_lines(two, strlen(two), 1) == 6, "spawn_lines: the first line's bytes");
			CHECK(spawn_lines(two, strlen(two), 2) == 12, "spawn_lines: two lines");
			CHECK(spawn_lines(two, 11, 2) == 0, "spawn_lines: a line without its newline is not whole");
			CHECK(spawn_lines("", 0, 1) == 0, "spawn_lines: nothing yet");
			CHECK(spawn_results(two, 12, 2, SPAWN_RUNNING, r, &used) == 2 && used == 12 &&
			      r[0].st == 'K' && r[1].st == 'D', "two good lines: 2, and their bytes used");
			CHECK(spawn_results("K ok\nQ bad\n", 12, 2, SPAWN_RUNNING, r, &used) == 1 && used == 0 &&
			      r[1].st == 'Z', "a malformed line: fewer good than asked, nothing used");
			CHECK(memcmp(r[1].text, "postern-local gave a malformed result", r[1].len) == 0 &&
			      r[1].len == strlen("postern-local gave a malformed result"),
			      "while it runs, a malformed line is named as such");
			CHECK(spawn_results("Z\n", 2, 1, SPAWN_RUNNING, r, &used) == 1 && r[0].st == 'Z' &&
			      r[0].len == 28 && memcmp(r[0].text, "postern-local gave no reason", 28) == 0,
			      "a bare Z from a running child: no reason given");
		}
	}
	return check_done();
}
