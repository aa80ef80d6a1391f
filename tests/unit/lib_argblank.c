/* args_blank (src/lib/argblank.c): the envelopes out of a public command line */
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "argblank.h"

int main(void)
{
	char a0[] = "example.org", a1[] = "sender@example.net", a2[] = "", a3[] = "rcpt@example.org";
	char *argv[] = { a0, a1, a2, a3, 0 };
	char **c = args_blank(argv, 4);

	CHECK(c != 0, "copied");
	CHECK(c && strcmp(c[0], "example.org") == 0 && strcmp(c[1], "sender@example.net") == 0 && c[2][0] == 0 &&
	      strcmp(c[3], "rcpt@example.org") == 0 && c[4] == 0, "the copies, in order, an empty one kept, then a null");
	CHECK(memcmp(a0, "\0\0\0\0\0\0\0\0\0\0\0", sizeof a0) == 0 && a1[0] == 0 && a1[sizeof a1 - 2] == 0 &&
	      a3[0] == 0 && a3[sizeof a3 - 2] == 0, "the originals are all NULs");
	CHECK(argv[1] == a1 && argv[3] == a3, "the argument vector itself is left as it was");
	free(c);
	c = args_blank(argv, 0);
	CHECK(c && c[0] == 0, "no arguments: an empty vector");
	free(c);
	return check_done();
}
