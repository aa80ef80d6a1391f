#include <errno.h>
#include <string.h>
#include "srsfiles.h"
#include "addr.h"
#include "file.h"
#include "home.h"

/* A key file holds at most SRS_KEYS_MAX lines of 32 hex digits and a few
 * comments: read_fd's first buffer holds it without a realloc, which
 * would leave a copy of the key behind in freed memory. */
#define KEY_FILE_MAX 4000

int srs_keys_load(struct srs_keys *keys, struct str *path, const char **why)
{
	struct str text = STR_INIT;
	int r, ok = 0;

	if (!home_path(path, SRS_KEY_FILE))
		return -1;
	r = read_file(path->s, &text, KEY_FILE_MAX);
	if (r == 1 && srs_keys_parse(keys, text.s, text.len))
		ok = 1;
	else if (r == 1)
		*why = "malformed key file: each line 32 hex digits, at most 8 keys";
	else
		*why = r == 0 ? strerror(ENOENT) : errno == EFBIG ? "key file too long" : strerror(errno);
	str_wipe(&text);
	return ok;
}

int srs_domain_usable(const char *d, size_t n)
{
	return n > 0 && d[0] != '[' && domain_check(d, n);
}
