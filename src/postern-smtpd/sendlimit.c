/* control/submissionlimit: the recipients one login may send to in an
 * hour, across all its sessions, on the submission ports.  A login whose
 * password was stolen is the usual way a mail server comes to send
 * spam; the limit bounds what it sends before its owner or the admin
 * notices, and a person sending mail never meets it.  Each login has a
 * token bucket of that many (src/lib/bucket.h), filled at that many an
 * hour, kept in HOME/run/sendlimit/HASH: the submission sessions are
 * separate processes of the same user (postern-submit), and the file,
 * locked for each take, is what they share.  HASH is the FNV-1a hash of
 * the login in lower case, in hex (logins are up to 255 bytes, names
 * fewer).  The file: "THOUSANDTHS MS\n", the tokens held and when, in
 * milliseconds of the wall clock (it must survive a restart); one that
 * cannot be read is a full bucket.  A session taken over before its
 * login could rewrite the files, which gives it nothing it could send:
 * it has no login.  doc/smtp.md, "Submission". */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>
#include "smtpd.h"
#include "ascii.h"
#include "bucket.h"
#include "die.h"
#include "fmt.h"
#include "home.h"
#include "io.h"

static int name_of(struct str *path, const char *login, size_t n)
{
	unsigned long long h = 14695981039346656037ULL;
	char name[17];
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)ascii_tolower(login[i]);
		h *= 1099511628211ULL;
	}
	for (i = 0; i < 8; i++)
		fmt_hexbyte(name + 2 * i, (unsigned char)(h >> (56 - 8 * i)));
	name[16] = 0;
	return home_path(path, "run/sendlimit/") && str_cats(path, name);
}

static unsigned long long wall_ms(void)
{
	struct timespec t;

	if (clock_gettime(CLOCK_REALTIME, &t) == -1 || t.tv_sec < 0)
		return 1;
	return (unsigned long long)t.tv_sec * 1000 + (unsigned long long)t.tv_nsec / 1000000 + 1;
}

/* "THOUSANDTHS MS\n" into b; 0 when it is not that (a new bucket) */
static int parse(const char *s, size_t n, struct bucket *b)
{
	size_t i = scan_ulong(s, n, &b->milli), j;

	if (!i || i >= n || s[i] != ' ')
		return 0;
	j = scan_ulong(s + i + 1, n - i - 1, &b->at_ms);
	return j && i + 1 + j + 1 == n && s[n - 1] == '\n';
}

int sendlimit_take(const char *login, size_t n)
{
	static struct str path;
	struct bucket b = { 0, 0 };
	char buf[64], out[48];
	ssize_t got;
	size_t len;
	int fd, r = -1, taken;

	if (!name_of(&path, login, n))
		die_nomem();
	fd = openat(AT_FDCWD, path.s, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
	if (fd == -1)
		return -1;
	while (flock(fd, LOCK_EX) == -1)
		if (errno != EINTR)
			goto out;
	do
		got = pread(fd, buf, sizeof buf, 0);
	while (got == -1 && errno == EINTR);
	if (got == -1)
		goto out;
	if (!parse(buf, (size_t)got, &b))
		b.milli = b.at_ms = 0;
	taken = bucket_take(&b, cfg.sendlimit, 3600000, wall_ms());
	len = fmt_ulong(out, b.milli);
	out[len++] = ' ';
	len += fmt_ulong(out + len, b.at_ms);
	out[len++] = '\n';
	if (pwrite(fd, out, len, 0) != (ssize_t)len || ftruncate(fd, (off_t)len) == -1)
		goto out;
	r = taken;
out:
	close(fd); /* the lock goes with it */
	return r;
}
