#include <errno.h>
#include <string.h>
#include "control.h"
#include "ascii.h"
#include "file.h"
#include "fmt.h"
#include "home.h"

/* The buffers are kept from one file to the next: a program reads a dozen
 * control files at start, and musl's malloc returns a freed 4 KB buffer to
 * the kernel at once, so a fresh one each time is an mmap and an munmap per
 * file (doc/performance.md). */
static struct str name_in_home, path, raw;
static const char *dir_given;

void control_from(const char *dir) { dir_given = dir; }

static int load(const char *name)
{
	name_in_home.len = 0;
	if (dir_given) {
		if (!path_join(&path, dir_given, name))
			return -1;
	} else if (!str_cats(&name_in_home, "control/") || !str_cats(&name_in_home, name) ||
	           !home_path(&path, name_in_home.s))
		return -1;
	return read_file(path.s, &raw, CONTROL_MAX);
}

int control_lines(const char *name, struct str *list)
{
	size_t pos = 0;
	int r = load(name);

	list->len = 0;
	if (!str_ready(list, 0))
		return -1;
	if (r <= 0)
		return r;
	while (pos < raw.len) {
		char *nl = memchr(raw.s + pos, '\n', raw.len - pos);
		size_t end = nl ? (size_t)(nl - raw.s) : raw.len;
		size_t a = pos, b = end;
		while (a < b && ascii_wsp_cr(raw.s[a]))
			a++;
		while (b > a && ascii_wsp_cr(raw.s[b - 1]))
			b--;
		if (b > a && raw.s[a] != '#' && !memchr(raw.s + a, 0, b - a))
			if (!str_catb(list, raw.s + a, b - a) || !str_catz(list))
				return -1;
		pos = end + 1;
	}
	/* A file of comments and blanks means the default, as for control_line:
	 * so the installed templates, which only document defaults, change
	 * nothing until the admin writes a value. */
	return list->len ? 1 : 0;
}

int control_line(const char *name, struct str *value)
{
	struct str list = STR_INIT;
	int r = control_lines(name, &list);

	value->len = 0;
	if (r == 1 && list.len == 0)
		r = 0; /* a file of comments and blanks means: the default */
	if (r == 1 && !str_copys(value, list.s))
		r = -1;
	str_free(&list);
	return r;
}

int control_num(const char *name, unsigned long long *value, unsigned long long def)
{
	struct str v = STR_INIT;
	int r = control_line(name, &v);

	*value = def;
	if (r == 1 && !scan_ulong_all(v.s, v.len, value)) {
		errno = EINVAL;
		r = -1;
	}
	str_free(&v);
	return r < 0 ? -1 : r;
}
