/* postern-clean and postern-queue at the same time on one pool: a queue
 * process takes files, writes a message into each and commits it; the
 * clean process reads every committed message back and puts it in the pool.
 * A message found shorter than written means a put reached a file after a
 * take: committed mail emptied (the bug a benchmark found once in about
 * 4,000 messages, when pool_put emptied a file after offering it).  Runs
 * for a fixed time in a fresh directory under /tmp. */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "check.h"
#include "fmt.h"
#include "lib/pool.c"

#define SECONDS 2
#define BODY "a committed message that must keep every byte of itself\n"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The queue side: take (or create) a file, write, commit by rename. */
static int queue_loop(double until)
{
	unsigned long long k;
	char to[64];
	int fd, moved;

	for (k = 0; now() < until; k++) {
		listed = 0; /* each message is a new postern-queue process */
		nnames = 0;
		if (dir_fd != -1)
			close(dir_fd);
		dir_fd = -1;
		fd = pool_take("tmp/x", &moved);
		if (fd == -1) {
			if (moved)
				(void)unlink("tmp/x");
			fd = open("tmp/x", O_WRONLY | O_CREAT | O_EXCL, 0640);
		}
		if (fd == -1 || write(fd, BODY, sizeof BODY - 1) != (ssize_t)(sizeof BODY - 1) || close(fd) == -1)
			return 1;
		memcpy(to, "mess/", 5);
		to[5 + fmt_ulong(to + 5, k)] = 0;
		if (rename("tmp/x", to) == -1)
			return 1;
	}
	return 0;
}

/* The clean side: check every committed message, then pool it. */
static int clean_pass(unsigned long *checked, unsigned long *damaged)
{
	char path[64];
	struct stat st;
	struct dirent *e;
	DIR *d = opendir("mess");

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || strlen(e->d_name) > 40)
			continue;
		memcpy(path, "mess/", 5);
		memcpy(path + 5, e->d_name, strlen(e->d_name) + 1);
		if (stat(path, &st) == -1)
			continue;
		(*checked)++;
		if (st.st_size != (off_t)(sizeof BODY - 1))
			(*damaged)++;
		(void)pool_put(path, e->d_name);
	}
	closedir(d);
	return 1;
}

static int remove_dir(const char *path)
{
	struct dirent *e;
	DIR *d = opendir(path);

	if (!d)
		return 0;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			(void)unlinkat(dirfd(d), e->d_name, 0);
	closedir(d);
	return rmdir(path) == 0;
}

int main(void)
{
	char dir[] = "/tmp/postern-pool-race.XXXXXX";
	unsigned long checked = 0, damaged = 0;
	double until;
	pid_t pid;
	int status = 0;

	if (!mkdtemp(dir) || chdir(dir) == -1 || mkdir("mess", 0700) == -1 || mkdir("tmp", 0700) == -1 ||
	    mkdir("pool", 0700) == -1) {
		printf("not ok 1 - set up %s\n", dir);
		return 1;
	}
	until = now() + SECONDS;
	pid = fork();
	if (pid == 0)
		_exit(queue_loop(until));
	CHECK(pid > 0, "queue process started");
	pool_count();
	while (now() < until + 0.2 && clean_pass(&checked, &damaged))
		;
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "queue process wrote and committed without an error");
	clean_pass(&checked, &damaged);
	printf("# %lu messages checked\n", checked);
	CHECK(checked > 1000, "over 1,000 messages went round the pool");
	CHECK(damaged == 0, "no committed message was emptied by a put");

	CHECK(remove_dir("mess") && remove_dir("tmp") && remove_dir("pool") && chdir("/") == 0 && rmdir(dir) == 0,
	      "scratch directory removed");
	return check_done();
}
