/* open_queue_file_above (src/lib/file.c), the spawners' open of a queued
 * message as root or as postern-remote's user: a regular file with one
 * link opens above the given fd, close-on-exec and blocking; a FIFO, a
 * hard-linked file, a directory and a symlink are refused at once (a FIFO
 * must not stop the spawner in open()).  file_replace: the whole new file
 * or the old one, never a tmp left behind.  Runs in a fresh directory
 * under /tmp. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"
#include "file.h"

int main(void)
{
	char dir[] = "/tmp/postern-unit-file.XXXXXX";
	int fd, flags;
	struct stat st;
	struct str text = STR_INIT;

	if (!mkdtemp(dir) || chdir(dir) == -1)
		return 111;
	fd = open("plain", O_WRONLY | O_CREAT | O_EXCL, 0600);
	CHECK(fd != -1 && write(fd, "x\n", 2) == 2 && close(fd) == 0, "a plain file");
	fd = open_queue_file_above("plain", 40);
	flags = fd == -1 ? -1 : fcntl(fd, F_GETFL);
	CHECK(fd >= 40, "a regular file with one link opens at fd 40 or above");
	CHECK(fd != -1 && (fcntl(fd, F_GETFD) & FD_CLOEXEC) && flags != -1 && !(flags & O_NONBLOCK),
	      "close-on-exec, and blocking for its reader");
	if (fd != -1)
		close(fd);

	CHECK(mkfifo("fifo", 0600) == 0, "a FIFO");
	errno = 0;
	CHECK(open_queue_file_above("fifo", 40) == -1 && errno == EINVAL, "a FIFO: refused at once (EINVAL), no writer needed");

	CHECK(link("plain", "second-name") == 0, "a second link to the plain file");
	errno = 0;
	CHECK(open_queue_file_above("plain", 40) == -1 && errno == EINVAL, "a file with two links: refused (EINVAL)");
	CHECK(unlink("second-name") == 0 && (fd = open_queue_file_above("plain", 40)) >= 40,
	      "the link gone: it opens again");
	if (fd != -1)
		close(fd);

	CHECK(symlink("plain", "sym") == 0, "a symlink");
	errno = 0;
	CHECK(open_queue_file_above("sym", 40) == -1 && errno == ELOOP, "a symlink: refused (ELOOP)");
	CHECK(mkdir("sub", 0700) == 0, "a directory");
	errno = 0;
	CHECK(open_queue_file_above("sub", 40) == -1 && errno == EINVAL, "a directory: refused (EINVAL)");
	CHECK(open_queue_file_above("missing", 40) == -1 && errno == ENOENT, "a missing file: ENOENT");

	fd = open(".tmp", O_WRONLY | O_CREAT | O_EXCL, 0600);
	CHECK(fd != -1 && write(fd, "torn", 4) == 4 && close(fd) == 0, "a tmp left by a run that died");
	CHECK(file_replace("table", ".tmp", "new\n", 4, 0640, 1) == 0 && read_file("table", &text, 100) == 1 &&
	          text.len == 4 && memcmp(text.s, "new\n", 4) == 0 && stat("table", &st) == 0 &&
	          (st.st_mode & 0777) == 0640 && access(".tmp", F_OK) == -1,
	      "file_replace: the data in place with its mode, the old tmp gone");
	CHECK(file_replace("table", ".tmp", "", 0, 0600, 0) == 0 && read_file("table", &text, 100) == 1 && text.len == 0,
	      "file_replace over an old file, empty");
	errno = 0;
	CHECK(file_replace("sub", ".tmp", "x", 1, 0600, 0) == -1 && errno == EISDIR && access(".tmp", F_OK) == -1,
	      "file_replace whose rename fails: -1 with its errno, no tmp left");
	str_free(&text);

	CHECK(unlink("plain") == 0 && unlink("fifo") == 0 && unlink("sym") == 0 && unlink("table") == 0 && rmdir("sub") == 0 &&
	          chdir("/") == 0 && rmdir(dir) == 0,
	      "scratch directory removed");
	return check_done();
}
