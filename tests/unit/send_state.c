/* postern-send's state file (src/lib/infostate.c) */
#include <string.h>
#include "check.h"
#include "infostate.h"

static void reset(struct rstate *r, size_t n)
{
	size_t i;
	memset(r, 0, n * sizeof *r);
	for (i = 0; i < n; i++)
		r[i].st = RS_PENDING;
}

int main(void)
{
	struct rstate r[4];
	struct str s = STR_INIT;
	int b = 0;
	size_t bad;

	reset(r, 4);
	CHECK(state_parse("", 0, r, 4, &b) == 0 && r[0].st == RS_PENDING && !b, "empty file: all pending");

	CHECK(state_line_K(&s, 1), "K line");
	CHECK(state_line_D(&s, 2, "550 5.1.1 no\nsuch\0user", 22), "D line with newline and NUL in reason");
	CHECK(state_line_Z(&s, 0, 3, 1700000000, "mailbox full", 12), "Z line");
	CHECK(state_line_B(&s), "B line");
	CHECK(memchr(s.s, 0, s.len) == 0, "no NUL in records");
	{
		size_t nl = 0, i;
		for (i = 0; i < s.len; i++)
			nl += s.s[i] == '\n';
		CHECK(nl == 4, "a reason cannot start a record");
	}
	reset(r, 4);
	bad = state_parse(s.s, s.len, r, 4, &b);
	CHECK(bad == 0, "records parse");
	CHECK(r[1].st == RS_DONE, "K: delivered");
	CHECK(r[2].st == RS_FAILED && r[2].why_len == 22 && memcmp(r[2].why, "550 5.1.1 no such user", 22) == 0,
	      "D: failed, reason kept");
	CHECK(r[0].st == RS_PENDING && r[0].attempts == 3 && r[0].next == 1700000000 &&
	      r[0].why_len == 12, "Z: attempts, next, reason");
	CHECK(r[3].st == RS_PENDING && r[3].attempts == 0, "untouched recipient pending");
	CHECK(b == 1, "B: bounced");

	/* later records win; torn last line ignored */
	{
		const char t[] = "Z 0 1 100 x\nK 0\nZ 1 1 100 y\nK 1";
		reset(r, 4);
		b = 0;
		bad = state_parse(t, sizeof t - 1, r, 4, &b);
		CHECK(bad == 0 && r[0].st == RS_DONE, "later K wins over Z");
		CHECK(r[1].st == RS_PENDING && r[1].attempts == 1, "torn last line ignored");
	}
	{
		const char t[] = "K 9\nK x\nQ 1\nK 1 2\nK\nZ 1 a 2 z\nD 2\nK 18446744073709551616\nK 0\n";
		reset(r, 4);
		bad = state_parse(t, sizeof t - 1, r, 4, &b);
		CHECK(bad == 8, "malformed and out-of-range lines counted");
		CHECK(r[0].st == RS_DONE && r[1].st == RS_PENDING && r[2].st == RS_PENDING,
		      "malformed lines change nothing");
	}
	{
		const char t[] = "K 1\0\nK 2\n";
		reset(r, 4);
		bad = state_parse(t, sizeof t - 1, r, 4, &b);
		CHECK(bad == 1 && r[1].st == RS_PENDING && r[2].st == RS_DONE, "a line holding NUL is refused");
	}
	/* a piece at a time: each line's record, and where the torn rest starts */
	{
		const char t[] = "K 1\nB\nQ\nW\nZ 0 2 5 why\nK 1";
		struct srec rec;
		size_t pos = 0;
		CHECK(state_next(t, sizeof t - 1, &pos, &rec, 4) == 1 && rec.kind == 'K' && rec.i == 1 && pos == 4,
		      "state_next: K and the position after it");
		CHECK(state_next(t, sizeof t - 1, &pos, &rec, 4) == 1 && rec.kind == 'B', "state_next: B");
		CHECK(state_next(t, sizeof t - 1, &pos, &rec, 4) == 0 && pos == 8, "state_next: a malformed line is passed");
		CHECK(state_next(t, sizeof t - 1, &pos, &rec, 4) == 1 && rec.kind == 'W', "state_next: W");
		CHECK(state_next(t, sizeof t - 1, &pos, &rec, 4) == 1 && rec.kind == 'Z' && rec.i == 0 &&
		      rec.attempts == 2 && rec.next == 5 && rec.why_len == 3 && memcmp(rec.why, "why", 3) == 0,
		      "state_next: Z with its fields");
		CHECK(state_next(t, sizeof t - 1, &pos, &rec, 4) == -1 && pos == sizeof t - 4,
		      "state_next: the torn last line is left where it starts");
		reset(r, 4);
		b = 0;
		state_apply(&rec, r, &b);
		CHECK(r[0].st == RS_PENDING && r[0].attempts == 2 && r[0].next == 5 && !b, "state_apply: Z");
	}
	/* R: delivered to a server without DSN (doc/dsn.md) */
	s.len = 0;
	CHECK(state_line_R(&s, 3) && s.len == 4 && memcmp(s.s, "R 3\n", 4) == 0, "R line");
	{
		const char t[] = "Z 0 1 100 x\nR 0\nR 1\nK 1\nK 2\nR 2\nR 3 x\nR\nR 9\n";
		reset(r, 4);
		b = 0;
		bad = state_parse(t, sizeof t - 1, r, 4, &b);
		CHECK(bad == 3, "R with a reason, without an index, or out of range: malformed");
		CHECK(r[0].st == RS_RELAYED && r[0].why_len == 0, "R after Z: relayed, the reason gone");
		CHECK(r[1].st == RS_DONE, "K after R wins");
		CHECK(r[2].st == RS_RELAYED, "R after K wins");
		CHECK(r[3].st == RS_PENDING && !b, "a malformed R changes nothing");
	}
	/* H: handed to a server with DSN, its request with it */
	s.len = 0;
	CHECK(state_line_H(&s, 7) && s.len == 4 && memcmp(s.s, "H 7\n", 4) == 0, "H line");
	{
		const char t[] = "Z 0 1 100 x\nH 0\nH 1 x\nK 2\nH 2\nH 3\nR 3\n";
		reset(r, 4);
		b = 0;
		bad = state_parse(t, sizeof t - 1, r, 4, &b);
		CHECK(bad == 1 && r[1].st == RS_PENDING, "H with a reason: malformed");
		CHECK(r[0].st == RS_HANDED && r[0].why_len == 0, "H after Z: handed on, the reason gone");
		CHECK(r[2].st == RS_HANDED && r[3].st == RS_RELAYED, "the later of K, H and R wins");
	}
	/* X: expanded, sent on by postern-local to several destinations
	 * (doc/dsn.md, "Forwards") */
	s.len = 0;
	CHECK(state_line_X(&s, 12) && s.len == 5 && memcmp(s.s, "X 12\n", 5) == 0, "X line");
	{
		const char t[] = "Z 0 1 100 x\nX 0\nX 1 x\nK 2\nX 2\nX 3\nH 3\nX\nX 5\nX -1\nX 1 \n";
		reset(r, 4);
		b = 0;
		bad = state_parse(t, sizeof t - 1, r, 4, &b);
		CHECK(bad == 5, "X with a reason, without an index, out of range, negative, or a trailing blank: malformed");
		CHECK(r[1].st == RS_PENDING && !b, "a malformed X changes nothing");
		CHECK(r[0].st == RS_EXPANDED && r[0].why_len == 0, "X after Z: expanded, the reason gone");
		CHECK(r[2].st == RS_EXPANDED && r[3].st == RS_HANDED, "the later of K, X and H wins");
	}
	{
		const char t[] = "X 3\n";
		struct srec rec;
		size_t pos = 0;
		CHECK(state_next(t, sizeof t - 1, &pos, &rec, 4) == 1 && rec.kind == 'X' && rec.i == 3 && rec.why_len == 0 &&
		      pos == 4, "state_next: X and its index");
		pos = 0;
		CHECK(state_next(t, sizeof t - 1, &pos, &rec, 3) == 0 && pos == 4, "state_next: X with an index >= nrcpt");
		reset(r, 4);
		b = 0;
		memset(&rec, 0, sizeof rec);
		rec.kind = 'X';
		rec.i = 1;
		state_apply(&rec, r, &b);
		CHECK(r[1].st == RS_EXPANDED && r[0].st == RS_PENDING && !b, "state_apply: X");
	}
	/* compaction writes each recipient's one record (state_line); read
	 * back, it gives the same state */
	{
		struct rstate c[7], back[7];
		size_t i;
		int same = 1;
		memset(c, 0, sizeof c);
		c[0].st = RS_DONE;
		c[1].st = RS_RELAYED;
		c[2].st = RS_FAILED;
		c[2].why = "550 5.1.1 no";
		c[2].why_len = 12;
		c[3].st = RS_PENDING;
		c[3].attempts = 2;
		c[3].next = 1700000000;
		c[3].why = "421 busy";
		c[3].why_len = 8;
		c[4].st = RS_PENDING; /* fresh: no record */
		c[5].st = RS_HANDED;
		c[6].st = RS_EXPANDED;
		s.len = 0;
		for (i = 0; i < 7; i++)
			CHECK(state_line(&s, i, c + i), "state_line");
		CHECK(s.len == 4 + 4 + 17 + 26 + 4 + 4 &&
		      memcmp(s.s, "K 0\nR 1\nD 2 550 5.1.1 no\nZ 3 2 1700000000 421 busy\nH 5\nX 6\n", s.len) == 0,
		      "compacted: K, R, D, Z, H, X, and nothing for a fresh recipient");
		reset(back, 7);
		b = 0;
		CHECK(state_parse(s.s, s.len, back, 7, &b) == 0, "the compacted records parse");
		for (i = 0; i < 7; i++)
			same &= back[i].st == c[i].st && back[i].attempts == c[i].attempts && back[i].next == c[i].next &&
			        back[i].why_len == c[i].why_len && (!c[i].why_len || memcmp(back[i].why, c[i].why, c[i].why_len) == 0);
		CHECK(same, "and read back give the same states (R stays relayed, X expanded)");
	}
	CHECK(state_backoff(1, 60, 14400) == 60, "backoff 1: min");
	CHECK(state_backoff(2, 60, 14400) == 120, "backoff 2: double");
	CHECK(state_backoff(4, 60, 14400) == 480, "backoff 4");
	CHECK(state_backoff(50, 60, 14400) == 14400, "backoff capped at max");
	CHECK(state_backoff(1000000, 60, 14400) == 14400, "backoff: huge attempt count");
	CHECK(state_backoff(3, 0, 0) == 1, "backoff at least a second");
	{
		char big[3000];
		memset(big, 'a', sizeof big);
		s.len = 0;
		CHECK(state_line_D(&s, 0, big, sizeof big) && s.len == 4 + REASON_MAX + 1, "reason cut to REASON_MAX");
	}
	str_free(&s);
	return check_done();
}
