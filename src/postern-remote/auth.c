/* SMTP AUTH credentials for smarthosts: HOME/secret/remote/smtpauth, one
 * `host:user:password` a line, keyed by the host exactly as a route in
 * control/smtproutes names it.  The file is the one secret postern-remote
 * holds, so it is refused unless only postern-remote (or root) can read
 * it, and it is read into fixed buffers that are wiped: no realloc ever
 * leaves a copy of a password on the heap. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "remote.h"
#include "case.h"
#include "fmt.h"
#include "home.h"
#include "io.h"

/* One line (no LF, a trailing CR already cut): 1 the fields, 0 malformed. */
static int split(const char *s, size_t n, size_t *hl, size_t *us, size_t *ul, size_t *ps)
{
	const char *p;
	size_t h;

	if (n && s[0] == '[') {
		/* an address literal may hold ':' (IPv6): it ends at ']' */
		p = memchr(s, ']', n);
		if (!p)
			return 0;
		h = (size_t)(p - s) + 1;
		if (h >= n || s[h] != ':')
			return 0;
	} else {
		p = memchr(s, ':', n);
		if (!p)
			return 0;
		h = (size_t)(p - s);
	}
	if (h == 0 || h > 255)
		return 0;
	*hl = h;
	*us = h + 1;
	p = memchr(s + *us, ':', n - *us);
	if (!p)
		return 0;
	*ul = (size_t)(p - (s + *us));
	*ps = *us + *ul + 1;
	/* the password is the rest of the line, ':' and blanks included */
	if (*ul == 0 || *ul > AUTH_FIELD_MAX || n - *ps == 0 || n - *ps > AUTH_FIELD_MAX)
		return 0;
	/* AUTH PLAIN separates the fields with NUL */
	if (memchr(s, 0, n))
		return 0;
	return 1;
}

int auth_parse(const char *buf, size_t n, const char *host, size_t hlen, struct creds *c,
               size_t *lineno)
{
	size_t pos = 0, line = 0;
	int found = 0;

	auth_wipe(c);
	*lineno = 0;
	while (pos < n) {
		const char *nl = memchr(buf + pos, '\n', n - pos);
		size_t end = nl ? (size_t)(nl - buf) : n, l = end - pos;
		const char *s = buf + pos;
		size_t hl, us, ul, ps;

		line++;
		pos = end + 1;
		if (l && s[l - 1] == '\r')
			l--;
		if (l == 0 || s[0] == '#')
			continue;
		/* every line is checked, so a typo shows up at once, not on
		 * the day its host is first used */
		if (!split(s, l, &hl, &us, &ul, &ps)) {
			auth_wipe(c);
			*lineno = line;
			return -1;
		}
		if (found || !case_eqb(s, hl, host, hlen))
			continue;
		memcpy(c->user, s + us, ul);
		c->ulen = ul;
		memcpy(c->pass, s + ps, l - ps);
		c->plen = l - ps;
		c->found = found = 1;
	}
	return found;
}

void auth_wipe(struct creds *c) { explicit_bzero(c, sizeof *c); }

static void why_mode(struct str *why, const char *what, unsigned long long v, int octal)
{
	char num[FMT_ULONG + 2];
	size_t k = 0;

	if (octal) {
		num[k++] = '0';
		num[k++] = (char)('0' + (v >> 6 & 7));
		num[k++] = (char)('0' + (v >> 3 & 7));
		num[k++] = (char)('0' + (v & 7));
	} else
		k = fmt_ulong(num, v);
	num[k] = 0;
	if (!str_cats(why, what) || !str_cats(why, num) || !str_catc(why, ')'))
		why->len = 0;
}

int auth_load(const char *host, size_t hlen, struct creds *c, struct str *why)
{
	static char buf[AUTH_FILE_MAX + 1];
	struct str path = STR_INIT;
	struct stat st;
	size_t got = 0, lineno;
	int fd, r, e;

	auth_wipe(c);
	why->len = 0;
	if (!home_path(&path, AUTH_FILE))
		return -2;
	fd = openat(AT_FDCWD, path.s, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	e = errno;
	str_free(&path);
	if (fd == -1) {
		if (e == ENOENT)
			return 0;
		if (!str_cats(why, AUTH_FILE) ||
		    !str_cats(why, e == ELOOP ? ": a symbolic link, refused" :
		                   e == EACCES ? ": permission denied (it must belong to postern-remote)" :
		                   ": unable to open it"))
			return -2;
		return -1;
	}
	/* the checks look at the file that was opened, not at a name */
	if (fstat(fd, &st) == -1) {
		close(fd);
		return str_cats(why, AUTH_FILE ": unable to stat it") ? -1 : -2;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return str_cats(why, AUTH_FILE ": not a regular file, refused") ? -1 : -2;
	}
	if (st.st_uid != geteuid() && st.st_uid != 0) {
		close(fd);
		why_mode(why, AUTH_FILE ": refused, owned by neither postern-remote nor root (uid ",
		         st.st_uid, 0);
		return why->len ? -1 : -2;
	}
	if (st.st_mode & 077) {
		close(fd);
		why_mode(why, AUTH_FILE ": refused, group or others may use it; chmod 600 (mode ",
		         st.st_mode & 0777, 1);
		return why->len ? -1 : -2;
	}
	for (;;) {
		ssize_t n = read_retry(fd, buf + got, sizeof buf - got);
		if (n == -1) {
			close(fd);
			explicit_bzero(buf, sizeof buf);
			return str_cats(why, AUTH_FILE ": read error") ? -1 : -2;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (got > AUTH_FILE_MAX) {
			close(fd);
			explicit_bzero(buf, sizeof buf);
			return str_cats(why, AUTH_FILE ": larger than 64 kB, refused") ? -1 : -2;
		}
	}
	close(fd);
	r = auth_parse(buf, got, host, hlen, c, &lineno);
	explicit_bzero(buf, sizeof buf);
	if (r < 0) {
		why_mode(why, AUTH_FILE ": malformed line, not `host:user:password' (line ", lineno, 0);
		return why->len ? -1 : -2;
	}
	return r;
}

int auth_plaintext_ok(const struct str *list, const char *host, size_t hlen)
{
	const char *p;
	for (p = list->s; p && p < list->s + list->len; p += strlen(p) + 1)
		if (case_eqb(p, strlen(p), host, hlen))
			return 1;
	return 0;
}

size_t auth_plain_response(const struct creds *c, char *out, size_t size)
{
	unsigned char raw[2 + 2 * AUTH_FIELD_MAX];
	size_t n = 0, r;

	/* RFC 4616: authzid (empty) NUL authcid NUL passwd */
	raw[n++] = 0;
	memcpy(raw + n, c->user, c->ulen);
	n += c->ulen;
	raw[n++] = 0;
	memcpy(raw + n, c->pass, c->plen);
	n += c->plen;
	r = b64_encode(raw, n, out, size);
	explicit_bzero(raw, sizeof raw);
	return r;
}
