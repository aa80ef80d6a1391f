/* The key file, HOME/secret/srs/key, as postern-srs holds it: read at
 * start, and again whenever it has changed (its inode, size, or times)
 * since the last look, which each request makes: postern-srskey new or
 * drop takes effect at the next request, with no signal to send. */
#ifndef POSTERN_SRS_KEYS_H
#define POSTERN_SRS_KEYS_H
#include <sys/stat.h>
#include "srs.h"

struct keyfile {
	int usable;          /* keys holds the file's keys */
	struct srs_keys keys;
	char why[160];       /* !usable: what is wrong, for the log and the Z */
	int seen;            /* st holds what the last look found */
	struct stat st;
};

/* Looks at the file, and reads it again when it changed, when force is
 * set, or when the last reading failed: each change of what it holds is
 * logged (keys, or srs_unavailable with a reason that is news). */
void keyfile_look(struct keyfile *k, int force);
/* Wipes the keys. */
void keyfile_wipe(struct keyfile *k);
#endif
