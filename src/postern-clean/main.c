/* postern-clean: removes finished messages from the queue for postern-send,
 * which may not delete what postern-queue owns.  Runs as postern-queue;
 * requests on fd 0, answers on fd 1 (doc/pipes.md).  Once an hour it also
 * removes what a crashed postern-queue left behind. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "die.h"
#include "file.h"
#include "home.h"
#include "io.h"
#include "log.h"
#include "netstring.h"
#include "pool.h"
#include "str.h"
#include "uniq.h"

#define USAGE "postern-clean (started by postern-start)"
#define REQ_MAX 256
#define SWEEP_INTERVAL 3600
#define STALE_AGE (36 * 3600) /* longer than any postern-queue can take */

static void reply(const char *qid, size_t len, char status)
{
	struct str p = STR_INIT, f = STR_INIT;
	if (!str_catb(&p, qid, len) || !str_catz(&p) || !str_catc(&p, status) || !str_catz(&p) ||
	    !ns_cat(&f, p.s, p.len))
		die_nomem();
	if (write_all(1, f.s, f.len) == -1)
		die_sys(111, "fatal: unable to write to postern-send");
	str_free(&p);
	str_free(&f);
}

/* The envelope goes first: without it the message is no longer in the
 * queue, and a crash between the two leaves only a file the sweep removes.
 * Both go to the pool, emptied, for postern-queue to use again; the
 * message file, which nothing reads once its envelope is gone, is emptied
 * in mess/ and moved with one rename. */
static void remove_message(const char *qid, size_t len)
{
	char path[5 + QID_MAX + 5 + 1];
	int ok;

	memcpy(path, "mess/", 5);
	memcpy(path + 5, qid, len);
	memcpy(path + 5 + len, ".env", 5);
	ok = pool_put(path, path + 5);
	if (!ok)
		warn_sys("warning: unable to remove ", path);
	path[5 + len] = 0;
	if (ok && !pool_put_unshared(path, path + 5)) {
		warn_sys("warning: unable to remove ", path);
		ok = 0;
	}
	reply(qid, len, ok ? 'K' : 'Z');
}

/* When a queue file's message began: its queue id's time (mess/ID,
 * tmp/ID.env), or 0.  A file taken from pool/ keeps its old mtime until
 * postern-queue stamps it, a moment after the rename: by the mtime alone
 * the sweep could take a message being written. */
static unsigned long long born(const char *name, size_t n)
{
	if (n > 4 && !memcmp(name + n - 4, ".env", 4))
		n -= 4;
	return qid_valid(name, n) ? qid_time(name, n) : 0;
}

static void sweep_dir(const char *dir, time_t now, int mess)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	struct str path = STR_INIT, env = STR_INIT;
	struct stat st;

	if (!d) {
		warn_sys("warning: unable to open queue/", dir);
		return;
	}
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);
		if (e->d_name[0] == '.')
			continue;
		/* Only message files: an envelope (ID.env) is a committed message
		 * however old it is (a remote retry keeps it for days), and it
		 * passes qid_valid, whose alphabet has '.' and letters. */
		if (mess && (!qid_valid(e->d_name, n) || (n > 4 && !memcmp(e->d_name + n - 4, ".env", 4))))
			continue;
		if (!path_join(&path, dir, e->d_name))
			die_nomem();
		if (lstat(path.s, &st) == -1 || !S_ISREG(st.st_mode) || st.st_mtime > now - STALE_AGE ||
		    born(e->d_name, n) > (unsigned long long)(now - STALE_AGE))
			continue;
		if (mess) {
			/* a message whose envelope never arrived: postern-queue crashed
			 * between its two renames, so it never said yes to anyone */
			if (!str_copyb(&env, path.s, path.len) || !str_cats(&env, ".env"))
				die_nomem();
			if (access(env.s, F_OK) == 0 || errno != ENOENT)
				continue;
		}
		if (unlink(path.s) == 0) {
			struct logline l = { STR_INIT };
			log_begin(&l, "stale");
			log_kv(&l, "file", path.s);
			log_end(&l);
		} else if (errno != ENOENT)
			warn_sys("warning: unable to remove ", path.s);
	}
	closedir(d);
	str_free(&path);
	str_free(&env);
}

static void sweep(void)
{
	time_t now = time(0);
	sweep_dir("tmp", now, 0);
	sweep_dir("mess", now, 1);
}

int main(int argc, char **argv)
{
	static char inbuf[1024];
	struct io in;
	struct str f = STR_INIT;
	time_t next_sweep;

	progname = "postern-clean";
	if (argc > 1)
		die_usage(USAGE);
	(void)argv;
	if (chdir(home_dir()) == -1 || chdir("queue") == -1)
		die_sys(111, "fatal: unable to enter the queue");
	if (fcntl(0, F_SETFD, FD_CLOEXEC) == -1 || fcntl(1, F_SETFD, FD_CLOEXEC) == -1)
		die_sys(111, "fatal: missing the pipes from postern-start");
	io_init(&in, 0, inbuf, sizeof inbuf);
	sweep();
	pool_count();
	next_sweep = time(0) + SWEEP_INTERVAL;
	for (;;) {
		struct pollfd p = { 0, POLLIN, 0 };
		time_t now = time(0);
		int r;

		if (now >= next_sweep) {
			sweep();
			next_sweep = now + SWEEP_INTERVAL;
		}
		if (!io_buffered(&in)) {
			r = poll(&p, 1, (int)((next_sweep - now) * 1000));
			if (r == -1 && errno != EINTR)
				die_sys(111, "fatal: poll failed");
			if (r <= 0)
				continue;
		}
		r = ns_read(&in, &f, REQ_MAX);
		if (r == 0) {
			str_free(&f);
			return 0; /* postern-send is gone */
		}
		if (r < 0)
			die_sys(111, "fatal: bad frame from postern-send");
		{
			const char *fld[1];
			size_t fl[1];
			if (!ns_fields(&f, fld, fl, 1) || !qid_valid(fld[0], fl[0]))
				die(111, "fatal: malformed request from postern-send");
			remove_message(fld[0], fl[0]);
		}
	}
}
