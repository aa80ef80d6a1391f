/* process-floor CYCLES: what this machine charges for a process, printed
 * beside the fsync floor because the two decide most of a table.  postern
 * starts two programs for every message it receives (postern-smtpd and
 * postern-queue), Postfix none, so the same code runs at 0.7x or 1.2x of
 * Postfix depending on what a process costs here (doc/performance.md,
 * "Where postern stands").  Prints one line:
 * "fork_ms=F spawn_ms=S fault_us=P":
 *   F  fork of this small process, _exit in the child, waitpid;
 *   S  posix_spawn of this program (built static) with "-child", which
 *      returns at once, and waitpid: an exec and an exit;
 *   P  the first write to each page of 16 MB of fresh anonymous memory,
 *      a page fault each.
 * A benchmark helper, not part of postern, so stdio is fine here. */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static void reap(pid_t pid)
{
	int status;
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "process-floor: a child failed\n");
		exit(111);
	}
}

int main(int argc, char **argv)
{
	const size_t bytes = 16 << 20;
	long cycles, i;
	double t, fork_ms, spawn_ms, fault_us;
	volatile char *mem;

	if (argc > 1 && !strcmp(argv[1], "-child"))
		return 0;
	if (argc != 2 || (cycles = atol(argv[1])) <= 0) {
		fprintf(stderr, "usage: process-floor CYCLES\n");
		return 100;
	}

	t = now_ms();
	for (i = 0; i < cycles; i++) {
		pid_t pid = fork();
		if (pid == -1) {
			perror("process-floor: fork");
			return 111;
		}
		if (pid == 0)
			_exit(0);
		reap(pid);
	}
	fork_ms = (now_ms() - t) / cycles;

	t = now_ms();
	for (i = 0; i < cycles; i++) {
		char *child_argv[] = { argv[0], (char *)"-child", 0 };
		pid_t pid;
		int r = posix_spawn(&pid, "/proc/self/exe", 0, 0, child_argv, environ);
		if (r != 0) {
			fprintf(stderr, "process-floor: posix_spawn: %s\n", strerror(r));
			return 111;
		}
		reap(pid);
	}
	spawn_ms = (now_ms() - t) / cycles;

	mem = mmap(0, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		perror("process-floor: mmap");
		return 111;
	}
	t = now_ms();
	for (i = 0; i < (long)(bytes / 4096); i++)
		mem[i * 4096] = 1;
	fault_us = (now_ms() - t) * 1e3 / (bytes / 4096);

	printf("fork_ms=%.3f spawn_ms=%.3f fault_us=%.2f\n", fork_ms, spawn_ms, fault_us);
	return 0;
}
