#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "file.h"
#include "pool.h"
#include "rand.h"

/* Names read from pool/ per postern-queue run: about what one getdents
 * call of musl's readdir returns (2 KB, 32 entries of a queue id's
 * length), where 64 took three calls a message (doc/performance.md). */
#define TAKE_LIST 24
#define TAKE_TRIES 8   /* renames tried before creating a file instead */
#define RECOUNT 512    /* postern-clean's puts between counts of pool/ */

/* pool/, if it is a directory only we can enter: anything else is not our
 * pool, and 0 means "no pool" to every caller. */
static DIR *pool_open(void)
{
	struct stat st;
	DIR *d;
	int fd = openat(AT_FDCWD, POOL_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd == -1)
		return 0;
	if (fstat(fd, &st) == -1 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077) ||
	    !(d = fdopendir(fd))) {
		close(fd);
		return 0;
	}
	return d;
}

static int name_ok(const char *s)
{
	size_t n = strlen(s);
	return n > 0 && n <= POOL_NAME_MAX && s[0] != '.' && !strchr(s, '/');
}

/* The listing is read once per process: postern-queue takes two files. */
static char names[TAKE_LIST][POOL_NAME_MAX + 1];
static size_t nnames, next_name;
static int listed, dir_fd = -1;

static void list(void)
{
	DIR *d = pool_open();
	struct dirent *e;

	listed = 1;
	if (!d)
		return;
	dir_fd = fcntl(dirfd(d), F_DUPFD_CLOEXEC, 0);
	while (dir_fd != -1 && nnames < TAKE_LIST && (e = readdir(d)))
		if (name_ok(e->d_name)) {
			memcpy(names[nnames], e->d_name, strlen(e->d_name) + 1);
			nnames++;
		}
	closedir(d);
	/* start somewhere random: concurrent postern-queues read the same list */
	next_name = nnames ? rand_uniform((uint32_t)nnames) : 0;
}

int pool_take(const char *to, int *moved)
{
	size_t tries;

	*moved = 0;
	if (!listed)
		list();
	for (tries = 0; tries < TAKE_TRIES && tries < nnames; tries++) {
		size_t i = next_name;
		struct stat st;
		int fd, r;

		next_name = (i + 1) % nnames;
		if (!names[i][0])
			continue;
		r = rename_noreplace(dir_fd, names[i], AT_FDCWD, to);
		names[i][0] = 0; /* ours now, or another postern-queue's */
		if (r == -1) {
			if (errno == ENOENT)
				continue;
			return -1;
		}
		*moved = 1;
		fd = open_emptied(to, &st);
		/* Stamped now: a file can wait in the pool for days, and
		 * postern-clean sweeps tmp/ files by their age. */
		if (fd != -1 && (st.st_uid != geteuid() || futimens(fd, 0) == -1)) {
			close(fd);
			fd = -1;
		}
		return fd;
	}
	return -1;
}

/* 1 if path, a plain file with one link, is now empty and open nowhere
 * else.  A queue file is handed to delivery programs, and one that a
 * taken-over postern-local kept a descriptor of must never be reused: it
 * would read whatever message or envelope the queue writes into it next
 * (SECURITY).  The kernel grants a write lease only on a file that no other
 * open file description (a descriptor anywhere, one in flight in a socket,
 * a mapping) refers to, so that is the test; where no lease can be had at
 * all (a file system without them, leases turned off) nothing is reused.
 * Nobody can open it afresh meanwhile: only the queue's users may. */
static int empty(const char *path)
{
	struct stat st;
	int fd = open_emptied(path, &st), alone;

	if (fd == -1)
		return 0;
	alone = fcntl(fd, F_SETLEASE, F_WRLCK) == 0;
	if (alone)
		(void)fcntl(fd, F_SETLEASE, F_UNLCK);
	if (close(fd) != 0)
		return 0;
	if (!alone)
		errno = EBUSY;
	return alone;
}

static size_t pooled;   /* postern-clean's count of pool/: an estimate between counts */
static size_t puts_since_count;

void pool_count(void)
{
	DIR *d = pool_open();
	struct dirent *e;

	puts_since_count = 0;
	pooled = POOL_MAX; /* no usable pool: unlink everything */
	if (!d)
		return;
	pooled = 0;
	while ((e = readdir(d))) {
		if (name_ok(e->d_name))
			pooled++;
		else if (e->d_name[0] == '.' && strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			(void)unlinkat(dirfd(d), e->d_name, 0); /* pool_put's, left by a crash */
	}
	closedir(d);
}

/* Whether a put may pool at all (room left, a name we would take back),
 * and if so pool/NAME in `to` (and pool/.NAME in `hidden`, when given). */
static int pool_room(const char *name, char *to, char *hidden)
{
	size_t n = strlen(name);

	/* postern-queue takes files without telling us, so the count only
	 * overstates: count again now and then */
	if (++puts_since_count >= RECOUNT)
		pool_count();
	if (pooled >= POOL_MAX || !name_ok(name))
		return 0;
	memcpy(to, POOL_DIR "/", sizeof POOL_DIR);
	memcpy(to + sizeof POOL_DIR, name, n + 1);
	if (hidden) {
		memcpy(hidden, POOL_DIR "/.", sizeof POOL_DIR + 1);
		memcpy(hidden + sizeof POOL_DIR + 1, name, n + 1);
	}
	return 1;
}

int pool_put(const char *from, const char *name)
{
	char to[sizeof POOL_DIR + POOL_NAME_MAX + 1];
	char hidden[sizeof POOL_DIR + 1 + POOL_NAME_MAX + 1];

	if (pool_room(name, to, hidden)) {
		/* Emptied under a dot name, which postern-queue never takes, and
		 * only then offered.  Emptying it after offering it would race: a
		 * postern-queue could take the file, write and commit a new message
		 * into it, and then see our truncate land on its envelope. */
		if (rename_noreplace(AT_FDCWD, from, AT_FDCWD, hidden) == 0) {
			if (empty(hidden) && rename_noreplace(AT_FDCWD, hidden, AT_FDCWD, to) == 0)
				pooled++;
			else
				(void)unlink(hidden);
			return 1; /* `from` is gone either way */
		}
		/* EEXIST, EXDEV, anything odd, and ENOENT, which may mean pool/
		 * itself is gone (the admin may remove it at any time) and not
		 * `from`: fall back to unlinking, which tells the two apart */
	}
	return unlink(from) == 0 || errno == ENOENT;
}

int pool_put_unshared(const char *from, const char *name)
{
	char to[sizeof POOL_DIR + POOL_NAME_MAX + 1];

	if (pool_room(name, to, 0)) {
		/* Nobody takes files from where it is, so it can be emptied
		 * there and offered with one rename: pool_put's dot name guards
		 * against a postern-queue taking a file still being emptied. */
		if (empty(from) && rename_noreplace(AT_FDCWD, from, AT_FDCWD, to) == 0) {
			pooled++;
			return 1;
		}
		/* not a plain file with one link, EEXIST, pool/ gone (ENOENT),
		 * anything odd: unlink */
	}
	return unlink(from) == 0 || errno == ENOENT;
}
