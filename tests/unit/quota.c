/* Maildir++ quotas: the definition and maildirsize's text (src/lib/quota.c),
 * and the file itself in a scratch Maildir (src/lib/maildirsize.c). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"
#include "file.h"
#include "io.h"
#include "maildirsize.h"
#include "quota.h"

static int parses(const char *s, unsigned long long bytes, unsigned long long count)
{
	struct quota q;
	return quota_parse(s, strlen(s), &q) && q.bytes == bytes && q.count == count;
}

static int bad(const char *s)
{
	struct quota q;
	return !quota_parse(s, strlen(s), &q);
}

static int formats(unsigned long long bytes, unsigned long long count, const char *want)
{
	struct quota q = { bytes, count };
	struct str s = STR_INIT;
	int ok = quota_format(&s, &q) && s.s && !strcmp(s.s, want);
	str_free(&s);
	return ok;
}

static int reads(const char *t, long long bytes, long long count, size_t lines)
{
	struct quota q;
	struct quota_usage u;
	return quota_read(t, strlen(t), &q, &u) && u.bytes == bytes && u.count == count && u.lines == lines;
}

static int unread(const char *t)
{
	struct quota q;
	struct quota_usage u;
	return !quota_read(t, strlen(t), &q, &u);
}

static void definitions(void)
{
	CHECK(parses("1000000S", 1000000, 0) && parses("50C", 0, 50) && parses("1000S,20C", 1000, 20) &&
	      parses("20C,1000S", 1000, 20), "NS, NC, NS,NC, NC,NS");
	CHECK(parses("2KS", 2048, 0) && parses("3MS,4KC", 3145728, 4096) && parses("1GS", 1073741824ULL, 0),
	      "K, M, G before the letter, 1024-based");
	CHECK(parses("none", 0, 0) && parses("NONE", 0, 0) && parses("0", 0, 0) && parses("0S", 0, 0),
	      "none, 0, 0S: no quota");
	CHECK(bad("") && bad("S") && bad("100") && bad("100X") && bad("10S,20S") && bad("10S,") && bad(",10S") &&
	      bad("-5S") && bad("1 0S") && bad("KS") && bad("10kS") && bad("10S,5C,3C"),
	      "malformed: empty, no number, no letter, a kind twice, blanks, a sign, lower-case k");
	CHECK(parses("18446744073709551615S", ~0ULL, 0) && bad("18446744073709551616S") && bad("17179869184GS"),
	      "2^64-1 taken, one more and an overflowing G refused");
	CHECK(formats(1000, 0, "1000S") && formats(0, 7, "7C") && formats(1000, 7, "1000S,7C") && formats(0, 0, "0S"),
	      "the Maildir++ form written");
}

static void files(void)
{
	struct quota q = { 100, 3 };
	struct quota_usage u = { 0, 0, 0 };

	CHECK(reads("100S,3C\n", 0, 0, 0) && reads("100S\n 40 1\n-10 -1\n  25   2  \n", 55, 2, 3),
	      "the definition alone; signed lines with blanks summed");
	CHECK(unread("100S,3C") && unread("100S\n40 1") && unread("100S\n40\n") && unread("100S\nx 1\n") &&
	      unread("bogus\n1 1\n") && unread("100S\n\n") && unread("") && unread("100S\n1 1 1\n"),
	      "no line end at the end (a torn append), one number, junk, no definition, a blank line: recounted");
	CHECK(unread("100S\n9223372036854775807 0\n1 0\n") && reads("100S\n9223372036854775807 0\n", 9223372036854775807LL, 0, 1),
	      "a sum past 2^63-1: recounted");
	u.bytes = 60;
	u.count = 2;
	CHECK(!quota_over(&q, &u, 40) && quota_over(&q, &u, 41), "bytes: the message may fill the quota, not pass it");
	u.count = 3;
	CHECK(quota_over(&q, &u, 1), "messages: the count full, nothing more");
	u.bytes = -50;
	u.count = -4;
	CHECK(!quota_over(&q, &u, 100), "negative sums (a reader's deletions raced a recount) count as 0");
	q.bytes = 0;
	q.count = 0;
	u.bytes = 1LL << 60;
	u.count = 1LL << 40;
	CHECK(!quota_over(&q, &u, ~0ULL), "no limits: never over");
}

static void write_file(const char *path, const char *text, unsigned long long size)
{
	int fd = openat(AT_FDCWD, path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd == -1 || write_all(fd, text, strlen(text)) == -1 || (size && ftruncate(fd, (off_t)size) == -1) ||
	    close(fd) == -1)
		abort();
}

static void maildir(void)
{
	char dir[] = "/tmp/postern-quota.XXXXXX", p[512];
	struct str root = STR_INIT, text = STR_INIT;
	struct maildirsize m;
	struct quota def = { 10000, 0 };
	struct quota_usage u;
	const char *sub[] = { "new", "cur", "tmp", ".Lists", ".Lists/new", ".Lists/cur", ".Lists/tmp", 0 };
	size_t i;

	if (!mkdtemp(dir))
		abort();
	for (i = 0; sub[i]; i++) {
		snprintf(p, sizeof p, "%s/%s", dir, sub[i]);
		if (mkdir(p, 0700) == -1)
			abort();
	}
	snprintf(p, sizeof p, "%s/.Lists/maildirfolder", dir);
	write_file(p, "", 0);
	snprintf(p, sizeof p, "%s/.Lists", dir);
	CHECK(maildirsize_root(p, &root) && !strcmp(root.s, dir), "a Maildir++ folder counts in the Maildir above it");
	CHECK(maildirsize_root(dir, &root) && !strcmp(root.s, dir), "a Maildir is its own root");
	CHECK(maildirsize_load(dir, &m) == 0, "no maildirsize: 0");
	CHECK(maildirsize_add(dir, 5, 1) == 0 && maildirsize_load(dir, &m) == 0, "adding to none makes none");

	snprintf(p, sizeof p, "%s/new/1.a,S=100", dir);
	write_file(p, "x", 100);
	snprintf(p, sizeof p, "%s/cur/2.b:2,S", dir);
	write_file(p, "y", 250);
	snprintf(p, sizeof p, "%s/.Lists/cur/3.c", dir);
	write_file(p, "z", 1000);
	snprintf(p, sizeof p, "%s/tmp/4.d", dir);
	write_file(p, "t", 5000);
	snprintf(p, sizeof p, "%s/cur/.hidden", dir);
	write_file(p, "h", 7000);
	CHECK(maildirsize_recount(dir, &def, &u) == 0 && u.bytes == 1350 && u.count == 3,
	      "recount: new/ and cur/ of the Maildir and its folders, not tmp/, not dot files (1350 bytes, 3)");
	snprintf(p, sizeof p, "%s/maildirsize", dir);
	CHECK(read_file(p, &text, 4096) == 1 && text.len == 14 && !memcmp(text.s, "10000S\n1350 3\n", 14),
	      "maildirsize written: the definition, then the sums");
	CHECK(maildirsize_add(dir, 200, 1) == 1 && maildirsize_add(dir, -100, -1) == 1, "lines added");
	CHECK(maildirsize_load(dir, &m) == 1 && m.parsed && m.has_def && m.def.bytes == 10000 && m.use.bytes == 1450 &&
	      m.use.count == 3 && m.use.lines == 3, "loaded: 1450 bytes in 3 after +200 +1 and -100 -1");
	write_file(p, "10000S\n1350 3\n12", 0);
	CHECK(maildirsize_load(dir, &m) == 1 && !m.parsed && m.has_def && m.def.bytes == 10000,
	      "a torn last line: the definition kept, the count to be made again");
	write_file(p, "10000S\n", 70000);
	CHECK(maildirsize_load(dir, &m) == 1 && !m.parsed && m.size == 70000 && m.has_def && m.def.bytes == 10000,
	      "over 64 KB: not read but for its definition, to be recounted");
	u.bytes = 777;
	u.count = -2;
	def.count = 9;
	CHECK(maildirsize_write(dir, &def, &u) == 0 && read_file(p, &text, 4096) == 1 &&
	      !strcmp(text.s, "10000S,9C\n777 0\n"), "written without counting: the definition and the sums, none below 0");
	(void)unlink(p);
	if (symlink("/etc/passwd", p) == -1)
		abort();
	CHECK(maildirsize_load(dir, &m) == -1 && maildirsize_add(dir, 1, 1) == -1, "a symlink is not followed");
	(void)unlink(p);
	str_free(&root);
	str_free(&text);
	snprintf(p, sizeof p, "rm -rf '%s'", dir);
	if (system(p) != 0)
		abort();
}

int main(void)
{
	definitions();
	files();
	maildir();
	return check_done();
}
