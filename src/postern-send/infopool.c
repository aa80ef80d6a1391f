/* info/.pN: emptied state files kept for reuse, so that a message
 * delivered at once costs the file system no inode created and freed
 * (lib/pool.h says why that matters; doc/queue.md, "The pool").  Only
 * postern-send enters info/, so the pool is this process's own: no
 * listing, no races.  The names start with a dot, which no queue id does,
 * so every scan of info/ passes them by. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "send.h"
#include "die.h"
#include "file.h"
#include "fmt.h"

#define INFO_POOL_MAX 2048 /* one a message: as many messages as queue/pool holds (lib/pool.h) */

static unsigned char present[INFO_POOL_MAX];
static size_t npresent;

static const char *slot(size_t i)
{
	static char name[sizeof "info/.p" + FMT_ULONG];
	size_t n = sizeof "info/.p" - 1;
	memcpy(name, "info/.p", n);
	name[n + fmt_ulong(name + n, i)] = 0;
	return name;
}

void infopool_init(void)
{
	size_t i;
	struct stat st;

	for (i = 0; i < INFO_POOL_MAX; i++)
		if (lstat(slot(i), &st) == 0 && S_ISREG(st.st_mode)) {
			present[i] = 1;
			npresent++;
		}
}

void infopool_take(const char *path)
{
	size_t i;

	if (!npresent)
		return;
	for (i = 0; i < INFO_POOL_MAX && !present[i]; i++)
		;
	if (i == INFO_POOL_MAX)
		return;
	if (rename_noreplace(AT_FDCWD, slot(i), AT_FDCWD, path) == -1 && errno == EEXIST)
		return; /* the message has a file already: the pooled one stays */
	/* taken, or gone (ENOENT): either way no longer in the pool */
	present[i] = 0;
	npresent--;
}

void infopool_put(const char *path)
{
	struct stat st;
	size_t i;
	int fd;

	for (i = 0; i < INFO_POOL_MAX && present[i]; i++)
		;
	if (i < INFO_POOL_MAX) {
		fd = open_emptied(path, &st);
		if (fd == -1 && errno == ENOENT)
			return; /* the message never had one */
		if (fd != -1 && close(fd) == 0 &&
		    rename_noreplace(AT_FDCWD, path, AT_FDCWD, slot(i)) == 0) {
			present[i] = 1;
			npresent++;
			return;
		}
	}
	if (unlink(path) == -1 && errno != ENOENT)
		warn_sys("warning: unable to remove ", path);
}
