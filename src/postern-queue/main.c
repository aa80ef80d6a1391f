/* postern-queue: the one door into the queue.  Installed setuid
 * postern-queue.  Reads a message on fd 0 and an envelope on fd 1 (the
 * qmail-queue interface), commits both to HOME/queue as doc/queue.md
 * describes, wakes the scheduler, and exits with qmail-queue's codes.
 * It prints nothing on success: a caller's stderr may be its client. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "queue.h"
#include "control.h"
#include "date822.h"
#include "die.h"
#include "envelope.h"
#include "file.h"
#include "home.h"
#include "pool.h"
#include "room.h"
#include "io.h"
#include "str.h"
#include "uniq.h"

/* Room for trace headers that callers add in front of a message whose size
 * they checked against the same control/databytes. */
#define TRACE_ALLOWANCE 65536

static gid_t queue_gid; /* group of mess/: every queue file must carry it */

/* A closed fd 0 or 1 would be taken by the first file we open; a closed fd 2
 * would turn our error messages into message text. */
static void fds_check(void)
{
	if (fcntl(0, F_GETFD) == -1)
		die(QQ_READ, "fatal: unable to read message: fd 0 is closed");
	if (fcntl(1, F_GETFD) == -1)
		die(QQ_READ, "fatal: unable to read envelope: fd 1 is closed");
	if (fcntl(2, F_GETFD) == -1) {
		int fd = openat(AT_FDCWD, "/dev/null", O_WRONLY | O_CLOEXEC);
		if (fd != 2)
			_exit(QQ_BUG);
	}
}

/* A directory we may write: a real directory (no symlink), ours, and not
 * writable by group or others.  This is what stops a copy or hard link of
 * the setuid binary from being pointed at a queue someone else prepared. */
static int dir_ours(const struct stat *st)
{
	return S_ISDIR(st->st_mode) && st->st_uid == geteuid() && !(st->st_mode & 022);
}

static void queue_enter(void)
{
	struct str q = STR_INIT;
	struct stat st;
	int fd;

	if (!home_path(&q, "queue"))
		die(QQ_NOMEM, "fatal: out of memory");
	fd = openat(AT_FDCWD, q.s, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		die_sys(QQ_QUEUEDIR, "fatal: unable to open queue directory ", q.s);
	if (fstat(fd, &st) == -1)
		die_sys(QQ_QUEUEDIR, "fatal: unable to stat ", q.s);
	if (!dir_ours(&st))
		die(QQ_QUEUEDIR, "fatal: refusing queue directory not owned by my user or writable by others: ", q.s);
	if (fchdir(fd) == -1)
		die_sys(QQ_QUEUEDIR, "fatal: unable to enter ", q.s);
	close(fd);
	if (lstat("tmp", &st) == -1 || !dir_ours(&st))
		die(QQ_QUEUEDIR, "fatal: refusing queue/tmp: missing, not mine or writable by others in ", q.s);
	if (lstat("mess", &st) == -1 || !dir_ours(&st))
		die(QQ_QUEUEDIR, "fatal: refusing queue/mess: missing, not mine or writable by others in ", q.s);
	queue_gid = st.st_gid;
	str_free(&q);
}

/* Creates mess/ID or tmp/ID.env with the queue's group, taking an emptied
 * file from queue/pool when there is one (lib/pool.h says why).  mess/ and
 * tmp/ are setgid, so the group normally holds already; a file of the
 * caller's group would be readable by that group and unreadable by
 * postern-send. */
static int create(int which)
{
	struct stat st;
	int moved, fd = pool_take(tmpfiles_path(which), &moved);

	if (moved)
		tmpfiles_mark(which, 1);
	if (fd == -1 && moved && unlink(tmpfiles_path(which)) == 0)
		tmpfiles_mark(which, 0); /* a pooled file we could not use */
	if (fd == -1)
		fd = open_excl(tmpfiles_path(which), 0640);
	if (fd == -1)
		fail(errno == ENOSPC || errno == EDQUOT ? QQ_WRITE : QQ_QUEUEDIR, 1,
		     "fatal: unable to create queue/", tmpfiles_path(which));
	tmpfiles_mark(which, 1);
	if (fstat(fd, &st) == -1)
		fail(QQ_QUEUEDIR, 1, "fatal: unable to stat queue/", tmpfiles_path(which));
	if (st.st_gid != queue_gid && fchown(fd, (uid_t)-1, queue_gid) == -1)
		fail(QQ_QUEUEDIR, 1, "fatal: queue/tmp must be setgid to the queue's group: ",
		     "unable to set the group of a new file");
	if ((st.st_mode & 07777) != 0640 && fchmod(fd, 0640) == -1)
		fail(QQ_QUEUEDIR, 1, "fatal: unable to set the mode of queue/", tmpfiles_path(which));
	return fd;
}

static void finish(int fd, int which)
{
	if (fsync(fd) == -1 || close(fd) == -1)
		fail(QQ_WRITE, 1, "fatal: unable to write queue/", tmpfiles_path(which));
}

/* Starts writing a file's data out without waiting for it.  Both files are
 * on their way to the disk before the first fsync, so a journalling file
 * system can commit the message and its envelope in one transaction and
 * the second fsync may find its work done (doc/performance.md has the
 * measurement).  Only speed depends on this: each file is still fsync'd,
 * and both before either is renamed into mess/. */
static void writeback(int fd)
{
#ifdef SYNC_FILE_RANGE_WRITE
	(void)sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
#else
	(void)fd;
#endif
}

static void received(struct str *out, const char *id)
{
	if (!str_cats(out, "Received: (postern-queue id ") || !str_cats(out, id) ||
	    !str_cats(out, " invoked by uid ") ||
	    !str_catu(out, (unsigned long long)getuid()) || !str_cats(out, "); ") ||
	    !date822_cat(out, time(0)) || !str_catc(out, '\n'))
		fail(QQ_NOMEM, 0, "fatal: out of memory", "");
}

/* Returns the open mess/ID, written but not yet fsync'd (envelope_store
 * does).  The message is written in mess/ itself: without its ID.env no
 * reader of the queue looks at it (doc/queue.md), so a name in tmp/ and a
 * rename would only cost work. */
static int message_in(unsigned long long databytes, const char *id)
{
	static char buf[65536];
	struct str head = STR_INIT;
	unsigned long long total = 0;
	int fd = create(TF_MESS), by_splice = 1;

	received(&head, id);
	if (write_all(fd, head.s, head.len) == -1)
		fail(QQ_WRITE, 1, "fatal: unable to write queue/", tmpfiles_path(TF_MESS));
	str_free(&head);
	/* From a pipe (postern-smtpd, postern-inject) the kernel moves the
	 * bytes into the file itself; fd 0 of any other kind is read. */
	for (;;) {
		ssize_t r;
		if (by_splice) {
			r = splice(0, 0, fd, 0, sizeof buf, SPLICE_F_MOVE);
			if (r == -1 && errno == EINTR)
				continue;
			if (r == -1 && total == 0 && (errno == EINVAL || errno == ENOSYS)) {
				by_splice = 0;
				continue;
			}
			if (r == -1)
				fail(errno == ENOSPC || errno == EDQUOT || errno == EIO || errno == EFBIG ? QQ_WRITE : QQ_READ,
				     1, "fatal: unable to move the message into queue/", tmpfiles_path(TF_MESS));
		} else if ((r = read_retry(0, buf, sizeof buf)) == -1) {
			fail(QQ_READ, 1, "fatal: unable to read message", "");
		}
		if (r == 0)
			break;
		total += (unsigned long long)r;
		if (databytes && total > databytes + TRACE_ALLOWANCE)
			fail(QQ_REFUSE, 0, "fatal: message too large for control/databytes", "");
		if (!by_splice && write_all(fd, buf, (size_t)r) == -1)
			fail(QQ_WRITE, 1, "fatal: unable to write queue/", tmpfiles_path(TF_MESS));
	}
	writeback(fd);
	return fd;
}

/* Writes tmp/ID.env, then makes both files durable. */
static void envelope_store(int messfd)
{
	struct str env = STR_INIT;
	struct envelope e;
	const char *why = "";
	int code = envelope_in(1, &env, &why);
	int fd;

	if (code)
		fail(code, code == QQ_READ && errno != 0, why, "");
	/* envelope_in checked the addresses; the DSN and forward records
	 * (doc/dsn.md, doc/srs.md), and
	 * the order of everything, are judged here by the parser every reader
	 * uses, so what is stored is what they all accept */
	switch (envelope_parse(&e, env.s, env.len)) {
	case ENV_OK: break;
	case ENV_TOOLONG: fail(QQ_TOOLONG, 0, "fatal: address too long", "");
	case ENV_FORMAT: fail(QQ_FORMAT, 0, "fatal: envelope format error: a DSN or forward record is malformed or out of place", "");
	default: fail(QQ_NOMEM, 0, "fatal: out of memory", "");
	}
	envelope_free(&e);
	fd = create(TF_ENV_TMP);
	if (write_all(fd, env.s, env.len) == -1)
		fail(QQ_WRITE, 1, "fatal: unable to write queue/", tmpfiles_path(TF_ENV_TMP));
	writeback(fd);
	finish(messfd, TF_MESS);
	finish(fd, TF_ENV_TMP);
	str_free(&env);
}

/* rename that refuses to replace: a name collision must never overwrite a
 * committed message (it cannot happen with 64 random bits, but costs nothing). */
static void move(int from, int to)
{
	if (rename_noreplace(AT_FDCWD, tmpfiles_path(from), AT_FDCWD, tmpfiles_path(to)) == -1) {
		if (errno != EINVAL || rename(tmpfiles_path(from), tmpfiles_path(to)) == -1)
			fail(errno == ENOSPC ? QQ_WRITE : QQ_QUEUEDIR, 1, "fatal: unable to move into queue/",
			     tmpfiles_path(to));
	}
	tmpfiles_mark(from, 0);
	tmpfiles_mark(to, 1);
}

/* control/queuefree (doc/queue.md, "Free space"): the commit must leave
 * half of it free.  postern-smtpd asked for all of it at MAIL, before the
 * message came; several may have come at once since, and sendmail's asked
 * nobody. */
static void room_check(unsigned long long queuefree)
{
	struct statvfs v;

	if (statvfs(".", &v) == -1)
		fail(QQ_WRITE, 1, "fatal: unable to read the free space of queue/", "");
	if (room_short(&v, queuefree / 2, 0))
		fail(QQ_WRITE, 0, "fatal: the queue's file system is nearly full: under half of control/queuefree left",
		     "");
}

/* When fd 1 is a socket (postern-smtpd's), the committed message's id goes
 * back on it, so that the SMTP reply and log can name the id that
 * postern-send's log and postern-qstat show.  A pipe, as the qmail-queue
 * interface has it, cannot carry it back and is left alone; the send
 * cannot block on an empty socket and its failure changes nothing. */
static void report_id(const char *id)
{
	struct str line = STR_INIT;

	if (str_cats(&line, id) && str_catc(&line, '\n'))
		(void)!send(1, line.s, line.len, MSG_DONTWAIT | MSG_NOSIGNAL);
	str_free(&line);
}

/* Best effort: a sleeping scheduler also finds the message on its next scan. */
static void trigger(const char *id)
{
	struct stat st;
	int fd = openat(AT_FDCWD, "lock/trigger", O_WRONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);

	if (fd == -1)
		return;
	if (fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode)) {
		struct str line = STR_INIT;
		if (str_cats(&line, id) && str_catc(&line, '\n'))
			(void)!write(fd, line.s, line.len);
		str_free(&line);
	}
	close(fd);
}

int main(void)
{
	unsigned long long databytes = 0, queuefree = 0;
	struct str id = STR_INIT;

	progname = "postern-queue";
	fds_check();
	umask(027);
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		die_sys(QQ_BUG, "fatal: unable to ignore SIGPIPE");
	queue_enter();
	/* beside the queue just entered, not through HOME again: HOME is a
	 * path, and a caller who ran a hard link of us from a directory of
	 * its own could turn that path into a symlink to the real install
	 * between the two, and have its own databytes apply to the real queue */
	control_from("../control");
	if (control_num("databytes", &databytes, 0) == -1)
		die_sys(QQ_CONFIG, "fatal: unable to read control/databytes");
	if (control_num("queuefree", &queuefree, QUEUEFREE_DEFAULT) == -1)
		die_sys(QQ_CONFIG, "fatal: unable to read control/queuefree");
	if (!uniq_qid(&id))
		die_sys(QQ_BUG, "fatal: unable to make a queue id (memory or randomness)");
	if (!qid_valid(id.s, id.len))
		die(QQ_BUG, "fatal: internal bug: a malformed queue id");
	tmpfiles_name(id.s);

	timeout_arm(QQ_DEADLINE);
	envelope_store(message_in(databytes, id.s));
	room_check(queuefree);
	timeout_disarm();

	move(TF_ENV_TMP, TF_ENV); /* the commit point */
	if (fsync_dir("mess") == -1)
		fail(QQ_WRITE, 1, "fatal: unable to sync queue/mess", ""); /* un-commits first */
	tmpfiles_mark(TF_MESS, 0);
	tmpfiles_mark(TF_ENV, 0);

	report_id(id.s);
	trigger(id.s);
	str_free(&id);
	return 0;
}
