/* The check of a lingering postern-local's request records
 * (src/postern-local/linger.c, linger_parse). */
#include <string.h>
#include "check.h"
#include "postern-local/linger.c"

static long parse(const char *rec, size_t len, size_t nfd, char **field)
{
	static char buf[8192];
	memcpy(buf, rec, len);
	return linger_parse(buf, len, nfd, field);
}

int main(void)
{
	static char *f[LOCAL_MSG_ARGS * LOCAL_BATCH_MAX];
	static char big[LOCAL_MSG_ARGS * (LOCAL_BATCH_MAX + 1) * 2];
	const char one[] = "ext\0a@x.example\0s@y.example\0" "1.2P3R4\0RET=HDRS\0NOTIFY=SUCCESS\0";
	const char two[] = "\0a@x.example\0\0" "1.2P3R4\0\0\0" "e\0b@x.example\0s@y.example\0" "5.6P7R8\0\0NOTIFY=NEVER\0";
	const size_t per = 2 * LOCAL_MSG_ARGS; /* bytes a message of one-byte fields takes in big */
	size_t i;

	CHECK(parse(one, sizeof one - 1, 1, f) == 1, "one message: six fields and one file");
	CHECK(strcmp(f[0], "ext") == 0 && strcmp(f[1], "a@x.example") == 0 && strcmp(f[2], "s@y.example") == 0 &&
	      strcmp(f[3], "1.2P3R4") == 0 && strcmp(f[4], "RET=HDRS") == 0 && strcmp(f[5], "NOTIFY=SUCCESS") == 0,
	      "its fields, in order: EXT RECIPIENT SENDER QID MAILPARAMS RCPTPARAMS");
	CHECK(parse(two, sizeof two - 1, 2, f) == 2, "two messages, empty EXT, sender and parameters");
	CHECK(f[0][0] == 0 && f[2][0] == 0 && f[4][0] == 0 && f[5][0] == 0 && strcmp(f[7], "b@x.example") == 0 &&
	      strcmp(f[9], "5.6P7R8") == 0 && f[10][0] == 0 && strcmp(f[11], "NOTIFY=NEVER") == 0,
	      "empty fields stay empty, the second message's fields follow");
	CHECK(parse(one, sizeof one - 1, 2, f) == -1, "six fields with two files: refused");
	CHECK(parse(two, sizeof two - 1, 1, f) == -1, "twelve fields with one file: refused");
	CHECK(parse(one, sizeof one - 1, 0, f) == -1, "no file at all: refused");
	CHECK(parse(one, sizeof one - 2, 1, f) == -1, "the last field without its NUL: refused");
	CHECK(parse("ext\0a@x.example\0s@y.example\0" "1.2P3R4\0", 36, 1, f) == -1,
	      "four fields, the record before DSN: refused");
	CHECK(parse("", 0, 1, f) == -1, "an empty record: refused");
	for (i = 0; i < sizeof big; i += 2)
		big[i] = 'x';
	CHECK(parse(big, per * LOCAL_BATCH_MAX, LOCAL_BATCH_MAX, f) == LOCAL_BATCH_MAX, "32 messages: the most");
	CHECK(parse(big, per * (LOCAL_BATCH_MAX + 1), LOCAL_BATCH_MAX + 1, f) == -1, "33 messages: refused");
	CHECK(parse(big, per * (LOCAL_BATCH_MAX + 1), LOCAL_BATCH_MAX, f) == -1,
	      "198 fields with 32 files: refused, and no field written past the 192nd");
	return check_done();
}
