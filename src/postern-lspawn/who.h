/* The recipient's identity, looked up in postern-lspawn itself so that the
 * child between fork and execve makes system calls only: no NSS module is
 * loaded, no socket opened and no /etc file read once per delivery. */
#ifndef POSTERN_LSPAWN_WHO_H
#define POSTERN_LSPAWN_WHO_H
#include <stddef.h>
#include <sys/types.h>

struct who {
	const char *name;
	const char *home;   /* the passwd entry's */
	uid_t uid;
	gid_t gid;
	const gid_t *groups; /* as initgroups would set them: gid included */
	size_t ngroups;
};

/* 1 found, 0 no such user, -1 the lookup failed (errno; E2BIG: in more
 * groups than the kernel allows).  What *w points to stays valid until the
 * next call. */
int who_get(const char *name, struct who *w);
#endif
