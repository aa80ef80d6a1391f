/* Constant databases in D. J. Bernstein's cdb format (the format tcprules,
 * qmail and tinycdb use), so `cdb -d` and `cdbdump` can inspect our files.
 * We carry our own ~150 lines instead of linking tinycdb: the reader must
 * treat the file as hostile (every offset bounds-checked against the mapped
 * size) and the writer must build the whole table in memory and hand it to
 * one write(2), which are both easier to show here than to audit in a
 * library.  See doc/smtp.md. */
#ifndef POSTERN_CDB_H
#define POSTERN_CDB_H
#include <stddef.h>
#include <stdint.h>
#include "str.h"

struct cdb {
	const unsigned char *map;
	size_t size;
};

uint32_t cdb_hash(const char *key, size_t len);
/* Maps path read-only.  1 ok, 0 absent (ENOENT), -1 error. */
int cdb_open(struct cdb *, const char *path);
/* Opens an already-open fd (which the caller may close afterwards). */
int cdb_open_fd(struct cdb *, int fd);
/* Looks key up.  1 found (*data, *dlen point into the map when not NULL),
 * 0 not found, -1 the file is corrupt (errno EPROTO). */
int cdb_find(const struct cdb *, const char *key, size_t klen, const char **data, size_t *dlen);
void cdb_close(struct cdb *);

/* Building: records are collected in memory, then written in one go. */
struct cdb_make {
	struct str recs;   /* klen(4) dlen(4) key data, as in the file */
	struct str index;  /* per record: hash(4) offset(4) */
	size_t n;
};
#define CDB_MAKE_INIT { STR_INIT, STR_INIT, 0 }
int cdb_make_add(struct cdb_make *, const char *key, size_t klen, const char *data, size_t dlen);
/* Renders the whole file into out.  1 ok, 0 no memory or over 4 GB. */
int cdb_make_finish(struct cdb_make *, struct str *out);
void cdb_make_free(struct cdb_make *);
#endif
