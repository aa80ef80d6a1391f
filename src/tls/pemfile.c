#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include "pemfile.h"
#include "die.h"
#include "file.h"

void pem_read(const char *path, struct str *text, struct stat *st)
{
	/* Symbolic links are followed: secret/ is root's to arrange, and
	 * pointing it at a certificate manager's files is a fair way to.
	 * O_NONBLOCK so that a FIFO put there cannot hang the start. */
	int fd = openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd == -1)
		die_sys(111, "fatal: unable to open ", path);
	if (fstat(fd, st) == -1)
		die_sys(111, "fatal: unable to stat ", path);
	if (!S_ISREG(st->st_mode))
		die(111, "fatal: ", path, " is not a regular file");
	if (read_fd(fd, text, PEM_FILE_MAX) == -1) {
		if (errno == EFBIG)
			die(111, "fatal: ", path, " is over 1 MB");
		die_sys(111, "fatal: unable to read ", path);
	}
	close(fd);
}

void pem_decode(const char *path, const struct str *text, struct str *der, pem_each *each, void *ctx)
{
	struct str why = STR_INIT;

	if (pem_walk(text, der, each, ctx, &why) == -1)
		die(111, "fatal: ", path, ": ", why.s);
}
