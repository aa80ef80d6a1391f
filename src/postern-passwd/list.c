/* postern-passwd list: the names, in the file's order.  The file is
 * renamed into place whole, so it is read without the lock.  Only the
 * name before the colon is looked at; postern-auth's log says which
 * hashes it cannot use (passwd_line lines). */
#include <errno.h>
#include <string.h>
#include "passwd.h"
#include "die.h"
#include "file.h"
#include "fmt.h"
#include "io.h"
#include "loginname.h"
#include "str.h"

void list(const char *file)
{
	struct str text = STR_INIT;
	char buf[4096], num[FMT_ULONG];
	struct io out;
	size_t pos = 0, lineno = 0, at;
	int r = read_file(file, &text, PWFILE_MAX);

	if (r == -1 && errno == EFBIG)
		die(111, "fatal: ", file, " is over 4 MB");
	if (r == -1)
		die_sys(111, "fatal: unable to read ", file);
	io_init(&out, 1, buf, sizeof buf);
	while (pos < text.len) {
		const char *l = text.s + pos, *nl = memchr(l, '\n', text.len - pos), *colon;
		size_t len = nl ? (size_t)(nl - l) : text.len - pos;

		pos += len + (nl ? 1 : 0);
		lineno++;
		if (len == 0 || l[0] == '#')
			continue;
		colon = memchr(l, ':', len);
		if (!colon || !login_name(l, (size_t)(colon - l), &at)) {
			num[fmt_ulong(num, lineno)] = 0;
			warn("warning: ", file, ": line ", num, " is not NAME:HASH");
			continue;
		}
		if (io_put(&out, l, (size_t)(colon - l)) == -1 || io_put(&out, "\n", 1) == -1)
			die_sys(111, "fatal: unable to write the list");
	}
	if (io_flush(&out) == -1)
		die_sys(111, "fatal: unable to write the list");
	str_free(&text);
}
