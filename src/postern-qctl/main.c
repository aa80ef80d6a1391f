/* postern-qctl: the administrator's hand on the queue (doc/postern-qctl.8).
 *
 *   postern-qctl flush [ID...]  every deferred message (or those) tried again now
 *   postern-qctl delete ID...   the messages go, unsent, without a bounce
 *   postern-qctl bounce ID...   the messages go back to their senders
 *
 * It never touches a queue file itself: the queue is postern-send's to
 * decide about and postern-clean's to remove.  delete and bounce leave a
 * request in queue/cancel/ (postern-send's directory), and each verb then
 * says one word to postern-send on the queue's trigger.  Root only. */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "conf.h"
#include "die.h"
#include "home.h"
#include "io.h"
#include "uniq.h"

#define USAGE "postern-qctl flush [ID...] | delete ID... | bounce ID..."

/* One word to postern-send on the trigger, which postern-queue writes ids
 * to (doc/queue.md).  0 said; -1 not, with *why: "not running" when the
 * FIFO has no reader (ENXIO, EPIPE), else what failed (a full FIFO, say). */
static int tell_send(const char *word, const char **why)
{
	char line[80]; /* postern-send's longest trigger line */
	size_t n = strlen(word);
	int fd = openat(AT_FDCWD, "lock/trigger", O_WRONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;

	*why = "not running";
	if (n >= sizeof line) {
		*why = "the request is too long for the trigger";
		if (fd != -1)
			close(fd);
		return -1;
	}
	if (fd == -1) {
		if (errno != ENXIO)
			*why = "unable to open queue/lock/trigger";
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISFIFO(st.st_mode)) {
		*why = "queue/lock/trigger is not a FIFO";
		close(fd);
		return -1;
	}
	memcpy(line, word, n);
	line[n] = '\n';
	/* at most PIPE_BUF bytes: written whole or not at all */
	if (write_all(fd, line, n + 1) == -1) {
		if (errno != EPIPE)
			*why = "unable to write to queue/lock/trigger";
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static void check_ids(char **ids);

/* Nothing is left in a file: a flush matters only to a running
 * postern-send, whose retry times a restart reads again anyway. */
static void flush(char **ids)
{
	struct str word = STR_INIT;
	const char *why;

	if (!*ids) {
		if (tell_send("flush", &why) == -1)
			die(111, "fatal: postern-send was not told (", why, "): nothing is retried before its time");
		return;
	}
	check_ids(ids);
	for (; *ids; ids++) {
		word.len = 0;
		if (!str_cats(&word, "flush ") || !str_cats(&word, *ids) || !str_catz(&word))
			die_nomem();
		if (tell_send(word.s, &why) == -1)
			die(111, "fatal: postern-send was not told (", why, "): ", *ids, " and what follows are not retried before their time");
	}
	str_free(&word);
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

/* queue/cancel, opened without following a link and checked to be
 * postern-send's own and no one else's to write: queue/ is postern-queue's,
 * whose user must not be able to point root's files somewhere else. */
static int cancel_dir(void)
{
	int fd = openat(AT_FDCWD, "cancel", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct passwd *pw = getpwnam(conf_users[USER_SEND]);
	struct stat st;

	if (fd == -1)
		die_sys(111, "fatal: unable to open queue/cancel (./install makes it)");
	if (!pw)
		die(111, "fatal: no such user: ", conf_users[USER_SEND]);
	if (fstat(fd, &st) == -1)
		die_sys(111, "fatal: unable to look at queue/cancel");
	if (st.st_uid != pw->pw_uid || (st.st_mode & 022))
		die(111, "fatal: queue/cancel is not ", conf_users[USER_SEND], "'s alone (./install --check)");
	return fd;
}

/* A request is an empty file named for what is asked: postern-send
 * reads the directory, never a file the request's writer made. */
static void cancel(const char *verb, char **ids)
{
	struct str name = STR_INIT;
	const char *why;
	int dir;

	check_ids(ids);
	dir = cancel_dir();
	for (; *ids; ids++) {
		int fd;
		name.len = 0;
		if (!str_cats(&name, verb) || !str_catc(&name, '-') || !str_cats(&name, *ids) || !str_catz(&name))
			die_nomem();
		fd = openat(dir, name.s, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd == -1 && errno != EEXIST)
			die_sys(111, "fatal: unable to make queue/cancel/", name.s);
		if (fd != -1 && close(fd) == -1)
			die_sys(111, "fatal: unable to make queue/cancel/", name.s);
	}
	str_free(&name);
	/* the request survives a crash of the machine, as the message does */
	if (fsync(dir) == -1)
		die_sys(111, "fatal: unable to sync queue/cancel");
	close(dir);
	/* the request is made: postern-send finds it at its next start or
	 * scan (5 minutes at most) even when it cannot be told now */
	if (tell_send("cancel", &why) == -1)
		warn("postern-send was not told (", why, "): it finds the request when it starts, or within ",
		     "5 minutes");
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
	if (strcmp(argv[1], "flush") == 0)
		flush(argv + 2);
	else if ((strcmp(argv[1], "delete") == 0 || strcmp(argv[1], "bounce") == 0) && argc > 2)
		cancel(argv[1], argv + 2);
	else
		die_usage(USAGE);
	return 0;
}
