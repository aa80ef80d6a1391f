/* postern-qctl: the administrator's hand on the queue (doc/postern-qctl.8).
 *
 *   postern-qctl flush          every deferred message is tried again now
 *   postern-qctl delete ID...   the messages go, unsent, without a bounce
 *   postern-qctl bounce ID...   the messages go back to their senders
 *
 * It never touches a queue file itself: the queue is postern-send's to
 * decide about and postern-clean's to remove.  delete and bounce leave a
 * request in queue/cancel/ (postern-send's directory), and each verb then
 * says one word to postern-send on the queue's trigger.  Root only. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "die.h"
#include "file.h"
#include "home.h"
#include "io.h"
#include "uniq.h"

#define USAGE "postern-qctl flush | delete ID... | bounce ID..."

/* One word to postern-send on the trigger, which postern-queue writes ids
 * to (doc/queue.md).  0 said, -1 postern-send is not running (no reader),
 * dies on any other error. */
static int tell_send(const char *word)
{
	char line[16];
	size_t n = strlen(word);
	int fd = openat(AT_FDCWD, "lock/trigger", O_WRONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;

	if (fd == -1) {
		if (errno == ENXIO)
			return -1;
		die_sys(111, "fatal: unable to open queue/lock/trigger");
	}
	if (fstat(fd, &st) == -1 || !S_ISFIFO(st.st_mode))
		die(111, "fatal: queue/lock/trigger is not a FIFO");
	memcpy(line, word, n);
	line[n] = '\n';
	/* at most PIPE_BUF bytes: written whole or not at all */
	if (write_all(fd, line, n + 1) == -1) {
		if (errno == EPIPE)
			return -1;
		die_sys(111, "fatal: unable to write to queue/lock/trigger");
	}
	close(fd);
	return 0;
}

static void flush(void)
{
	if (tell_send("flush") == -1)
		die(111, "fatal: postern-send is not running: start it, and it tries what is due");
}

/* Every id is checked before any request is made: a typo in the list
 * must not leave half of it done. */
static void check_ids(char **ids)
{
	struct str path = STR_INIT;
	int bad = 0;
	struct stat st;

	for (; *ids; ids++) {
		size_t n = strlen(*ids);
		if (!qid_valid(*ids, n)) {
			warn("not a queue id: ", *ids);
			bad = 1;
			continue;
		}
		path.len = 0;
		if (!str_cats(&path, "mess/") || !str_cats(&path, *ids) || !str_cats(&path, ".env") ||
		    !str_catz(&path))
			die_nomem();
		if (stat(path.s, &st) == 0)
			continue;
		if (errno != ENOENT)
			die_sys(111, "fatal: unable to look at queue/", path.s);
		warn("no such message in the queue: ", *ids);
		bad = 1;
	}
	str_free(&path);
	if (bad)
		die(100, "fatal: nothing done (postern-qstat lists the queue)");
}

/* A request is an empty file named for what is asked: postern-send
 * reads the directory, never a file the request's writer made. */
static void cancel(const char *verb, char **ids)
{
	struct str path = STR_INIT;

	check_ids(ids);
	for (; *ids; ids++) {
		int fd;
		path.len = 0;
		if (!str_cats(&path, "cancel/") || !str_cats(&path, verb) || !str_catc(&path, '-') ||
		    !str_cats(&path, *ids) || !str_catz(&path))
			die_nomem();
		fd = open_excl(path.s, 0600);
		if (fd == -1 && errno != EEXIST)
			die_sys(111, "fatal: unable to make queue/", path.s);
		if (fd != -1 && close(fd) == -1)
			die_sys(111, "fatal: unable to make queue/", path.s);
	}
	str_free(&path);
	/* the request survives a crash of the machine, as the message does */
	if (fsync_dir("cancel") == -1)
		die_sys(111, "fatal: unable to sync queue/cancel");
	if (tell_send("cancel") == -1)
		warn("postern-send is not running: it carries out the request when it starts");
}

int main(int argc, char **argv)
{
	progname = "postern-qctl";
	/* postern-send leaving the trigger between our open and write is
	 * an error to report, not a signal to die of */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		die_sys(111, "fatal: unable to ignore SIGPIPE");
	if (argc < 2)
		die_usage(USAGE);
	if (geteuid() != 0)
		die(111, "fatal: only root may change the queue");
	if (chdir(home_dir()) == -1 || chdir("queue") == -1)
		die_sys(111, "fatal: unable to enter the queue");
	if (strcmp(argv[1], "flush") == 0 && argc == 2)
		flush();
	else if ((strcmp(argv[1], "delete") == 0 || strcmp(argv[1], "bounce") == 0) && argc > 2)
		cancel(argv[1], argv + 2);
	else
		die_usage(USAGE);
	return 0;
}
