#include <errno.h>
#include <string.h>
#include "keys.h"
#include "die.h"
#include "home.h"
#include "log.h"
#include "srsfiles.h"

static int same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* k is unusable for why; logged when that is news */
static void unusable(struct keyfile *k, const char *path, const char *why)
{
	struct logline l = { STR_INIT };
	size_t n = strlen(why);
	int news = k->usable || strncmp(k->why, why, sizeof k->why - 1) != 0;

	keyfile_wipe(k);
	if (n > sizeof k->why - 1)
		n = sizeof k->why - 1;
	memcpy(k->why, why, n);
	k->why[n] = 0;
	if (!news)
		return;
	log_begin(&l, "srs_unavailable");
	log_kv(&l, "file", path);
	log_kv(&l, "why", k->why);
	log_end(&l);
}

void keyfile_look(struct keyfile *k, int force)
{
	static struct str path;
	struct str loaded = STR_INIT;
	struct logline l = { STR_INIT };
	struct stat st;
	const char *why = 0;
	int r;

	if (!path.len && !home_path(&path, SRS_KEY_FILE))
		die_nomem();
	if (stat(path.s, &st) == -1) {
		k->seen = 0;
		unusable(k, path.s, strerror(errno));
		return;
	}
	if (!force && k->seen && same_file(&st, &k->st))
		return;
	/* a key dropped from the file must not stay behind the ones kept */
	keyfile_wipe(k);
	r = srs_keys_load(&k->keys, &loaded, &why);
	str_free(&loaded);
	if (r == -1)
		die_nomem();
	/* a file that could not be used is read again at the next request,
	 * changed or not: the reason may be ours (no descriptor free, say),
	 * not the file's, and pass; a log line is written only when the
	 * reason changes */
	if (r == 0) {
		k->seen = 0;
		unusable(k, path.s, why);
		return;
	}
	k->st = st;
	k->seen = 1;
	k->usable = 1;
	k->why[0] = 0;
	log_begin(&l, "keys");
	log_kv(&l, "file", path.s);
	log_kvu(&l, "n", k->keys.n);
	log_end(&l);
}

void keyfile_wipe(struct keyfile *k)
{
	explicit_bzero(&k->keys, sizeof k->keys);
	k->usable = 0;
}
