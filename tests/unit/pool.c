/* The pool of emptied queue files (src/lib/pool.c): what postern-clean puts
 * in is emptied, what postern-queue takes out is an empty regular file of
 * ours with one link, and every odd case (no pool, a pool not ours, a
 * symlink or hard link planted in it, a full pool) falls back to creating
 * or unlinking.  Runs in a fresh directory under /tmp. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "check.h"
#include "fmt.h"
#include "lib/pool.c"

static void relist(void) /* a new postern-queue process, as far as the pool can tell */
{
	listed = 0;
	nnames = 0;
	if (dir_fd != -1)
		close(dir_fd);
	dir_fd = -1;
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0640);
	if (fd == -1)
		return 0;
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		close(fd);
		return 0;
	}
	return close(fd) == 0;
}

static long long size_of(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0 ? (long long)st.st_size : -1;
}

static long long age_of(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0 ? (long long)(time(0) - st.st_mtime) : -1;
}

static int count_pool(void)
{
	pool_count();
	return (int)pooled;
}

int main(void)
{
	char dir[] = "/tmp/postern-pool-test.XXXXXX";
	char name[64];
	int fd, moved, i, n;

	if (!mkdtemp(dir) || chdir(dir) == -1 || mkdir("mess", 0700) == -1 ||
	    mkdir("tmp", 0700) == -1) {
		printf("not ok 1 - set up %s\n", dir);
		return 1;
	}

	/* no pool/ at all: take says no, put unlinks */
	relist();
	fd = pool_take("tmp/a", &moved);
	CHECK(fd == -1 && !moved, "no pool/: nothing taken, nothing moved");
	pool_count();
	CHECK(write_file("mess/1", "secret") && pool_put("mess/1", "1") == 1 && size_of("mess/1") == -1,
	      "no pool/: put unlinks the file");

	/* a pool/ others may enter is not ours */
	CHECK(mkdir("pool", 0755) == 0, "pool/ 0755 made");
	pool_count();
	CHECK(pooled == POOL_MAX, "pool/ 0755: counted as full, so unusable");
	CHECK(write_file("mess/2", "secret") && pool_put("mess/2", "2") == 1 && size_of("pool/2") == -1 &&
	          size_of("mess/2") == -1,
	      "pool/ 0755: put unlinks instead of pooling");
	CHECK(write_file("pool/planted", "") && (relist(), pool_take("tmp/a", &moved)) == -1 && !moved &&
	          size_of("pool/planted") == 0,
	      "pool/ 0755: take leaves what is in it alone");
	CHECK(unlink("pool/planted") == 0 && chmod("pool", 0700) == 0, "pool/ now 0700");

	/* put: renamed in, emptied */
	pool_count();
	CHECK(write_file("mess/3.env", "Fa@b\0") && write_file("mess/3", "the message text") &&
	          pool_put("mess/3.env", "3.env") == 1 && pool_put("mess/3", "3") == 1,
	      "put: both files of a message");
	CHECK(size_of("mess/3") == -1 && size_of("mess/3.env") == -1, "put: gone from mess/");
	CHECK(size_of("pool/3") == 0 && size_of("pool/3.env") == 0, "put: in pool/, emptied");
	CHECK(size_of("pool/.3") == -1 && size_of("pool/.3.env") == -1, "put: no pool/.NAME left behind");
	CHECK(pool_put("mess/3", "3") == 1, "put: a file already gone is fine");

	/* put_unshared: emptied where it is, then one rename, no dot name */
	CHECK(write_file("mess/4", "the message text") && pool_put_unshared("mess/4", "4") == 1,
	      "put_unshared: a message file");
	CHECK(size_of("mess/4") == -1 && size_of("pool/4") == 0 && size_of("pool/.4") == -1,
	      "put_unshared: gone from mess/, in pool/ emptied, no pool/.NAME");
	CHECK(pool_put_unshared("mess/4", "4") == 1, "put_unshared: a file already gone is fine");
	CHECK(write_file("mess/5", "text") && write_file("pool/5", "") && pool_put_unshared("mess/5", "5") == 1 &&
	          size_of("mess/5") == -1 && size_of("pool/5") == 0,
	      "put_unshared: a name already in pool/ is not replaced; the file is unlinked");
	CHECK(unlink("pool/4") == 0 && unlink("pool/5") == 0, "cleaned up");

	/* a file still open somewhere (a delivery that kept its descriptor,
	 * a mapping of it) is never reused: unlinked, not pooled */
	{
		int held = -1, ok;
		void *map;
		CHECK(write_file("mess/6", "someone's message") && (held = open("mess/6", O_RDONLY)) != -1 &&
		          pool_put_unshared("mess/6", "6") == 1 && size_of("mess/6") == -1 && size_of("pool/6") == -1,
		      "put_unshared: a file open elsewhere is unlinked, not pooled");
		close(held);
		CHECK(write_file("mess/7.env", "F\0Tbcc@example.org\0\0") && (held = open("mess/7.env", O_RDONLY)) != -1 &&
		          pool_put("mess/7.env", "7.env") == 1 && size_of("mess/7.env") == -1 && size_of("pool/7.env") == -1 &&
		          size_of("pool/.7.env") == -1,
		      "put: a file open elsewhere is unlinked, not pooled");
		close(held);
		ok = write_file("mess/8", "mapped") && (held = open("mess/8", O_RDONLY)) != -1;
		map = ok ? mmap(0, 6, PROT_READ, MAP_SHARED, held, 0) : MAP_FAILED;
		if (ok)
			close(held);
		CHECK(map != MAP_FAILED && pool_put_unshared("mess/8", "8") == 1 && size_of("pool/8") == -1,
		      "put_unshared: a file still mapped somewhere is unlinked, not pooled");
		if (map != MAP_FAILED)
			munmap(map, 6);
		CHECK(write_file("mess/9", "closed again") && (held = open("mess/9", O_RDONLY)) != -1 && close(held) == 0 &&
		          pool_put_unshared("mess/9", "9") == 1 && size_of("pool/9") == 0,
		      "put_unshared: once every other descriptor is closed it is pooled");
		CHECK(unlink("pool/9") == 0, "cleaned up");
	}

	/* take: two files, then the pool is empty */
	relist();
	{
		struct timespec old[2] = { { 1000000000, 0 }, { 1000000000, 0 } }; /* 2001 */
		CHECK(utimensat(AT_FDCWD, "pool/3", old, 0) == 0 && utimensat(AT_FDCWD, "pool/3.env", old, 0) == 0,
		      "pooled files dated 2001");
	}
	fd = pool_take("tmp/a", &moved);
	CHECK(fd >= 0 && moved && size_of("tmp/a") == 0, "take: an empty file renamed to tmp/a");
	CHECK(age_of("tmp/a") < 60, "take: the file is dated now, so no sweep of tmp/ takes it for stale");
	CHECK(fd >= 0 && write(fd, "new", 3) == 3 && close(fd) == 0 && size_of("tmp/a") == 3,
	      "take: the descriptor writes the file");
	fd = pool_take("tmp/b", &moved);
	CHECK(fd >= 0 && moved && close(fd) == 0, "take: the second file from the same listing");
	fd = pool_take("tmp/c", &moved);
	CHECK(fd == -1 && !moved, "take: an empty pool gives nothing");
	CHECK(count_pool() == 0, "pool/ is empty now");

	/* a file pool_put is still emptying (pool/.NAME) is never taken: a
	 * truncate landing after a take would empty a committed message */
	CHECK(write_file("pool/.9", "old message text"), "a half-put file pool/.9");
	relist();
	fd = pool_take("tmp/g", &moved);
	CHECK(fd == -1 && !moved && size_of("pool/.9") == 16, "take: a dot name is never taken");
	CHECK(count_pool() == 0 && size_of("pool/.9") == -1, "count: removes a pool/.NAME left by a crash");

	/* a file left non-empty by a crash between rename and emptying */
	CHECK(write_file("pool/crashed", "old message text"), "a non-empty file in pool/");
	relist();
	fd = pool_take("tmp/d", &moved);
	CHECK(fd >= 0 && moved && size_of("tmp/d") == 0 && close(fd) == 0, "take: it comes out empty");

	/* planted: a symlink and a hard link are refused (the caller unlinks) */
	CHECK(write_file("victim", "do not touch") && symlink("../victim", "pool/link") == 0, "a symlink in pool/");
	relist();
	fd = pool_take("tmp/e", &moved);
	CHECK(fd == -1 && moved && size_of("victim") == 12, "take: a symlink is not opened, its target untouched");
	CHECK(unlink("tmp/e") == 0, "the caller removes what was moved");
	CHECK(link("victim", "pool/hard") == 0, "a hard link in pool/");
	relist();
	fd = pool_take("tmp/f", &moved);
	CHECK(fd == -1 && moved && size_of("victim") == 12, "take: a file with two links is refused, its other name untouched");
	CHECK(unlink("tmp/f") == 0 && link("victim", "mess/h") == 0 && pool_put("mess/h", "h") == 1 &&
	          size_of("victim") == 12 && size_of("pool/h") == -1,
	      "put: a file with two links is unlinked, not emptied");
	CHECK(link("victim", "mess/h2") == 0 && pool_put_unshared("mess/h2", "h2") == 1 &&
	          size_of("victim") == 12 && size_of("pool/h2") == -1 && size_of("mess/h2") == -1,
	      "put_unshared: a file with two links is unlinked, not emptied");
	CHECK(unlink("victim") == 0, "cleaned up");

	/* bounded: never more than POOL_MAX files */
	pool_count();
	for (i = 0, n = 0; i < POOL_MAX + 40; i++) {
		memcpy(name, "mess/m", 6);
		name[6 + fmt_ulong(name + 6, (unsigned long long)i)] = 0;
		if (write_file(name, "x") && pool_put(name, name + 5) == 1 && size_of(name) == -1)
			n++;
	}
	CHECK(n == POOL_MAX + 40, "put: every file leaves mess/");
	CHECK(count_pool() == POOL_MAX, "pool/ holds POOL_MAX files, the rest were unlinked");
	CHECK(write_file("mess/over", "x") && pool_put_unshared("mess/over", "over") == 1 &&
	          size_of("mess/over") == -1 && size_of("pool/over") == -1,
	      "put_unshared: a full pool unlinks");

	/* pool/ removed by the admin after it was counted (ENOENT from the
	 * rename into it): the file must still leave mess/, or postern-clean
	 * would answer K for a message left queued, to be delivered again */
	CHECK(rename("pool", "pool-away") == 0, "pool/ taken away after the count");
	pooled = 0;
	CHECK(write_file("mess/gone1", "x") && pool_put("mess/gone1", "gone1") == 1 && size_of("mess/gone1") == -1 &&
	          size_of("pool/.gone1") == -1,
	      "put with pool/ gone: 1, and the file is gone from mess/");
	pooled = 0;
	CHECK(write_file("mess/gone2", "x") && pool_put_unshared("mess/gone2", "gone2") == 1 &&
	          size_of("mess/gone2") == -1,
	      "put_unshared with pool/ gone: 1, and the file is gone from mess/");
	CHECK(rename("pool-away", "pool") == 0, "pool/ back");

	/* clean up the scratch directory */
	for (i = 0; i < 2; i++) {
		DIR *d = opendir(i ? "tmp" : "pool");
		struct dirent *e;
		while (d && (e = readdir(d)))
			if (e->d_name[0] != '.')
				(void)unlinkat(dirfd(d), e->d_name, 0);
		if (d)
			closedir(d);
	}
	CHECK(count_pool() == 0 && rmdir("pool") == 0 && rmdir("tmp") == 0 && rmdir("mess") == 0 &&
	          chdir("/") == 0 && rmdir(dir) == 0,
	      "scratch directory removed");
	return check_done();
}
