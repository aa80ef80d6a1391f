/* Log lines, held and flushed (src/lib/log.c).  Standard error is one end
 * of a SOCK_SEQPACKET pair, so every write(2) arrives as one record and
 * the test sees how the lines were grouped into writes. */
#include <limits.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "check.h"
#include "die.h"
#include "log.h"

static int peer;

/* The next record, or "" when none waits. */
static const char *record(void)
{
	static char buf[3 * PIPE_BUF];
	ssize_t n = recv(peer, buf, sizeof buf - 1, MSG_DONTWAIT);

	buf[n > 0 ? n : 0] = 0;
	return buf;
}

static void line(const char *event, const char *value)
{
	struct logline l = { STR_INIT };
	log_begin(&l, event);
	log_kv(&l, "v", value);
	log_end(&l);
}

int main(void)
{
	int sv[2];
	static char big[901], huge[PIPE_BUF + 100];
	const char *r;
	size_t i, lines, records, longest;
	int in_order, whole;

	progname = "t";
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == -1 || dup2(sv[0], 2) == -1)
		return 2;
	peer = sv[1];

	line("one", "a");
	CHECK(!strcmp(record(), "t: one v=a\n"), "not holding: a line is written at once");
	CHECK(!strcmp(record(), ""), "not holding: one write a line");

	log_hold();
	line("two", "b");
	line("three", "c d");
	CHECK(!strcmp(record(), ""), "held lines are not written");
	log_flush();
	CHECK(!strcmp(record(), "t: two v=b\nt: three v=\"c d\"\n"), "log_flush writes the held lines in one write");
	CHECK(!strcmp(record(), ""), "and nothing else");
	log_flush();
	CHECK(!strcmp(record(), ""), "a flush with nothing held writes nothing");

	/* ten lines of about 900 bytes: no write above PIPE_BUF, none cut */
	memset(big, 'x', sizeof big - 1);
	for (i = 0; i < 10; i++)
		line("big", big);
	log_flush();
	lines = records = longest = 0;
	whole = 1;
	while (*(r = record())) {
		size_t n = strlen(r);
		records++;
		if (n > longest)
			longest = n;
		if (r[n - 1] != '\n')
			whole = 0;
		for (; *r; r = strchr(r, '\n') + 1)
			if (!strncmp(r, "t: big v=", 9) && strchr(r, '\n') - r == 9 + (long)sizeof big - 1)
				lines++;
	}
	CHECK(lines == 10, "every held line arrives whole");
	CHECK(longest <= PIPE_BUF, "no write is longer than PIPE_BUF");
	CHECK(records >= 3 && records < 10, "lines are grouped into writes");
	CHECK(whole, "every write ends at the end of a line");

	/* a line longer than PIPE_BUF: what was held first, then the line */
	memset(huge, 'y', sizeof huge - 1);
	line("before", "h");
	{
		struct logline l = { STR_INIT };
		log_begin(&l, "huge");
		log_kvb(&l, "v", huge, 900);
		log_kvb(&l, "w", huge, 900);
		log_kvb(&l, "x", huge, 900);
		log_kvb(&l, "y", huge, 900);
		log_kvb(&l, "z", huge, 900);
		log_end(&l);
	}
	r = record();
	CHECK(!strcmp(r, "t: before v=h\n"), "a line too long to hold: the held lines go first");
	r = record();
	CHECK(!strncmp(r, "t: huge v=yyy", 13) && strlen(r) > PIPE_BUF, "then the long line, whole");
	line("after", "i");
	CHECK(!strcmp(record(), ""), "still holding after a long line");

	/* warn() writes what was held before its own line */
	warn("warning: ", "something");
	r = record();
	in_order = !strcmp(r, "t: after v=i\n");
	r = record();
	CHECK(in_order && !strcmp(r, "t: warning: something\n"), "warn() flushes the held lines first");

	CHECK(!strcmp(record(), ""), "nothing left over");
	return check_done();
}
