/* The Maildir writer of postern-local and the Maildir names it uses. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"
#include "postern-local/copy.c"
#include "postern-local/maildir.c"

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Number of entries in dir (without . and ..); the last name in last. */
static int count(const char *dir, char *last, size_t lastsize)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			n++;
			if (last)
				snprintf(last, lastsize, "%s", e->d_name);
		}
	closedir(d);
	return n;
}

int main(void)
{
	char root[] = "/tmp/postern-maildir-XXXXXX";
	char path[4096], name[1024], got[65536];
	char **names;
	struct str s = STR_INIT, why = STR_INIT, fname = STR_INIT;
	const char *pre = "Return-Path: <a@b.example>\nDelivered-To: c@d.example\n";
	const char *msg = "Subject: test\n\nbody line\n\0binary\xff\n";
	size_t msglen = 32, i;
	int fd, dups = 0, ok = 1, r;
	FILE *f;
	struct stat st;

	names = calloc(10000, sizeof *names);
	for (i = 0; i < 10000; i++) {
		if (!uniq_maildir(&s, "host/with:odd,S=1,W=2") || !(names[i] = strdup(s.s)))
			ok = 0;
		else if (strchr(s.s, '/') || strchr(s.s, ':') || strchr(s.s, ','))
			ok = 0;
	}
	CHECK(ok, "10000 names made, none with '/', ':' or ','");
	qsort(names, 10000, sizeof *names, cmp);
	for (i = 1; i < 10000; i++)
		if (!strcmp(names[i - 1], names[i]))
			dups++;
	CHECK(dups == 0, "10000 Maildir names are unique");
	CHECK(strstr(names[0], ".host\\057with\\072odd\\054S=1\\054W=2") != 0,
	      "host part escapes '/', ':' and ',' (no host passes for a size field)");
	for (i = 0; i < 10000; i++)
		free(names[i]);
	free(names);

	if (!mkdtemp(root))
		return 1;
	snprintf(path, sizeof path, "%s/msg", root);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0 && write(fd, msg, msglen) == (ssize_t)msglen, "message file written");
	lseek(fd, 5, SEEK_SET); /* the writer must not depend on the offset */

	snprintf(path, sizeof path, "%s/Maildir", root);
	r = maildir_deliver(path, pre, strlen(pre), fd, &why, &fname, 0, 0);
	CHECK(r == 111 && why.len && !strncmp(why.s, "4.2.1 Maildir missing", 21), "missing Maildir: 111, 4.2.1");

	mkdir(path, 0700);
	snprintf(path, sizeof path, "%s/Maildir/tmp", root);
	mkdir(path, 0700);
	snprintf(path, sizeof path, "%s/Maildir", root);
	r = maildir_deliver(path, pre, strlen(pre), fd, &why, &fname, 0, 0);
	CHECK(r == 111 && !strncmp(why.s, "4.2.1 Maildir missing", 21), "Maildir without new/: 111, 4.2.1");
	snprintf(path, sizeof path, "%s/Maildir/tmp", root);
	CHECK(count(path, 0, 0) == 0, "the failed delivery left nothing in tmp/");

	snprintf(path, sizeof path, "%s/Maildir/new", root);
	mkdir(path, 0700);
	snprintf(path, sizeof path, "%s/Maildir/cur", root);
	mkdir(path, 0700);
	snprintf(path, sizeof path, "%s/Maildir/", root);
	umask(077);
	r = maildir_deliver(path, pre, strlen(pre), fd, &why, &fname, 0, 0);
	CHECK(r == 0, "delivery succeeds");
	snprintf(path, sizeof path, "%s/Maildir/tmp", root);
	CHECK(count(path, 0, 0) == 0, "tmp/ is empty afterwards");
	snprintf(path, sizeof path, "%s/Maildir/new", root);
	CHECK(count(path, name, sizeof name) == 1, "exactly one file in new/");
	CHECK(fname.len && !strcmp(fname.s, name), "the writer reports the name it used");
	snprintf(path, sizeof path, "%s/Maildir/new/%s", root, name);
	f = fopen(path, "rb");
	i = f ? fread(got, 1, sizeof got, f) : 0;
	if (f)
		fclose(f);
	CHECK(i == strlen(pre) + msglen + 1 && !memcmp(got, pre, strlen(pre)) &&
	      !memcmp(got + strlen(pre), msg, msglen) && got[i - 1] == '\n',
	      "the file holds the trace lines, the exact message bytes, and the LF its unended last line lacked");
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "the file is mode 0600");
	{
		/* 6 bare LFs (2 in the trace lines, 3 in the 32 bytes of the message,
		 * and the one that ends its last line) */
		char want[64];
		size_t n = strlen(pre) + msglen + 1;
		snprintf(want, sizeof want, ",S=%zu,W=%zu", n, n + 6);
		CHECK((size_t)st.st_size == n && strlen(name) > strlen(want) &&
		      !strcmp(name + strlen(name) - strlen(want), want) && !strchr(name, ':'),
		      "the name in new/ ends in ,S=size,W=size with CRLF line ends, no ':'");
		CHECK(strchr(name, ',') == name + strlen(name) - strlen(want), "and holds no other ','");
	}

	r = maildir_deliver(path, pre, strlen(pre), fd, &why, &fname, 0, 0);
	CHECK(r == 111 && why.len > 6 && !strncmp(why.s, "4.", 2), "a file where a Maildir should be: temporary failure");
	{
		/* a batch's deliveries: new/ held open to be fsync'd once */
		static struct dirsync later;
		unsigned mask = 0, mask2 = 0;
		char other[4200];
		snprintf(path, sizeof path, "%s/Maildir/", root);
		snprintf(other, sizeof other, "%s/Other", root);
		mkdir(other, 0700);
		snprintf(other, sizeof other, "%s/Other/new", root);
		mkdir(other, 0700);
		snprintf(other, sizeof other, "%s/Other/tmp", root);
		mkdir(other, 0700);
		snprintf(other, sizeof other, "%s/Other/", root);
		CHECK(maildir_deliver(path, pre, strlen(pre), fd, &why, &fname, &later, &mask) == 0 && later.n == 1 &&
		      mask == 1, "a delivery with its fsync put off: new/ held, its bit set");
		CHECK(maildir_deliver(path, pre, strlen(pre), fd, &why, &fname, &later, &mask) == 0 && later.n == 1 &&
		      mask == 1, "a second into the same Maildir: the same directory, held once");
		CHECK(maildir_deliver(other, pre, strlen(pre), fd, &why, &fname, &later, &mask2) == 0 && later.n == 2 &&
		      mask2 == 2, "another Maildir: a second directory, the next bit");
		snprintf(path, sizeof path, "%s/Maildir/new", root);
		CHECK(count(path, 0, 0) == 3, "the copies are in new/ at once (only the directory's fsync waits)");
		CHECK(maildir_sync(&later, &why) == 0 && later.n == 0, "maildir_sync: both fsync'd, none failed, emptied");
		snprintf(path, sizeof path, "%s/Maildir/", root);
		mask = 0;
		CHECK(maildir_deliver(path, pre, strlen(pre), fd, &why, &fname, &later, &mask) == 0 && later.n == 1,
		      "held again after a sync");
		close(later.fd[0]);
		later.fd[0] = open("/dev/null", O_RDONLY);
		why.len = 0;
		CHECK(maildir_sync(&later, &why) == 1 && why.len > 6 && !strncmp(why.s, "4.3.0 unable to fsync ", 22) &&
		      strstr(why.s, "/Maildir/new") && later.n == 0,
		      "a directory whose fsync fails: its bit, and a text naming it");
	}
	close(fd);
	{
		char cmd[4200];
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
		if (system(cmd) != 0)
			return 1;
	}
	str_free(&s);
	str_free(&why);
	str_free(&fname);
	return check_done();
}
