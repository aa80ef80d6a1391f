/* fsync-floor DIR THREADS CYCLES [keep]: the file system's floor for a durable
 * Maildir-style commit.  Each cycle writes 2 KB to a new file in DIR/tmp,
 * fsyncs it, renames it into DIR/new and fsyncs DIR/new, which is the least
 * any mailer must do to say "queued" truthfully.  Prints one line:
 * "threads=T cycles=N seconds=S per_second=R".  A benchmark helper, not part
 * of postern, so stdio is fine here. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *dir;
static long cycles;
static char block[2048];

static void fail(const char *what, const char *path)
{
	fprintf(stderr, "fsync-floor: %s %s: %s\n", what, path, strerror(errno));
	exit(111);
}

static void *worker(void *arg)
{
	long t = (long)arg;
	char tmp[4096], new[4096], newdir[4096];
	snprintf(newdir, sizeof newdir, "%s/new", dir);
	int dfd = open(newdir, O_RDONLY | O_DIRECTORY);
	if (dfd < 0) fail("open", newdir);
	for (long i = 0; i < cycles; i++) {
		snprintf(tmp, sizeof tmp, "%s/tmp/t%ld.%ld", dir, t, i);
		snprintf(new, sizeof new, "%s/new/t%ld.%ld", dir, t, i);
		int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0600);
		if (fd < 0) fail("open", tmp);
		if (write(fd, block, sizeof block) != (ssize_t)sizeof block) fail("write", tmp);
		if (fsync(fd) < 0) fail("fsync", tmp);
		if (close(fd) < 0) fail("close", tmp);
		if (rename(tmp, new) < 0) fail("rename", tmp);
		if (fsync(dfd) < 0) fail("fsync", newdir);
	}
	close(dfd);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 4 && !(argc == 5 && strcmp(argv[4], "keep") == 0)) {
		fprintf(stderr, "usage: fsync-floor DIR THREADS CYCLES [keep]\n");
		return 100;
	}
	dir = argv[1];
	long threads = atol(argv[2]);
	cycles = atol(argv[3]);
	if (threads < 1 || threads > 64 || cycles < 1) {
		fprintf(stderr, "fsync-floor: bad THREADS or CYCLES\n");
		return 100;
	}
	memset(block, 'x', sizeof block);
	char sub[4096];
	snprintf(sub, sizeof sub, "%s/tmp", dir);
	if (mkdir(sub, 0700) < 0 && errno != EEXIST) fail("mkdir", sub);
	snprintf(sub, sizeof sub, "%s/new", dir);
	if (mkdir(sub, 0700) < 0 && errno != EEXIST) fail("mkdir", sub);

	pthread_t tid[64];
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long t = 0; t < threads; t++)
		if (pthread_create(&tid[t], NULL, worker, (void *)t) != 0) fail("pthread_create", "");
	for (long t = 0; t < threads; t++) pthread_join(tid[t], NULL);
	clock_gettime(CLOCK_MONOTONIC, &b);
	double s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	long total = threads * cycles;
	printf("threads=%ld cycles=%ld seconds=%.3f per_second=%.1f\n", threads, total, s, (double)total / s);

	/* Leave the directory as we found it, so runs do not pile up files;
	 * with "keep" (a fresh DIR each time) the files stay, because on ext4
	 * without a journal the inodes just freed would slow whatever creates
	 * files next (doc/performance.md, "Inode allocation"). */
	if (argc == 5)
		return 0;
	for (long t = 0; t < threads; t++)
		for (long i = 0; i < cycles; i++) {
			snprintf(sub, sizeof sub, "%s/new/t%ld.%ld", dir, t, i);
			unlink(sub);
		}
	return 0;
}
