/* control/submissionlimit: the recipients one login may send to in an
 * hour, across all its sessions, on the submission ports.  A login whose
 * password was stolen is the usual way a mail server comes to send
 * spam; the limit bounds what it sends before its owner or the admin
 * notices, and a person sending mail never meets it.  Each login has a
 * token bucket of that many (src/lib/bucket.h), filled at that many an
 * hour, kept in HOME/run/sendlimit/HASH: the submission sessions are
 * separate processes of the same user (postern-submit), and the file,
 * locked for each take, is what they share.  HASH is the 64-bit FNV-1a
 * hash of the login as it logged in (names are case-sensitive), in hex
 * (logins are up to 255 bytes, file names fewer; the admin names the
 * logins, so no one picks a collision).  The file: "THOUSANDTHS MS
 * REMAINDER\n", three fields of 20 digits each (bucket.h: the tokens
 * held, when, in milliseconds of the wall clock, which must survive a
 * restart, and the fraction waiting), so that each write is the whole
 * file and one cut short by a crash is still the same length.  An empty
 * file is a new, full bucket; any other that does not read so is an
 * empty one from now (a warning says so): damage never lends tokens.  A
 * session taken over before its login could rewrite the files, which
 * gives it nothing it could send: it has no login.  doc/smtp.md,
 * "The sending limit". */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>
#include "smtpd.h"
#include "bucket.h"
#include "die.h"
#include "fmt.h"
#include "fnv.h"
#include "home.h"
#include "io.h"

static int name_of(struct str *path, const char *login, size_t n)
{
	char name[17];

	name[fmt_hex64(name, fnv1a64(login, n))] = 0;
	return home_path(path, "run/sendlimit/") && str_cats(path, name);
}

static unsigned long long wall_ms(void)
{
	struct timespec t;

	if (clock_gettime(CLOCK_REALTIME, &t) == -1 || t.tv_sec < 0)
		return 1;
	return (unsigned long long)t.tv_sec * 1000 + (unsigned long long)t.tv_nsec / 1000000 + 1;
}

#define FIELD 20
#define RECORD (3 * (FIELD + 1))

/* RECORD bytes, "THOUSANDTHS MS REMAINDER\n", into b; 0 when not that */
static int parse(const char *s, size_t n, struct bucket *b)
{
	unsigned long long *v[3] = { &b->milli, &b->at_ms, &b->rem };
	size_t i;

	if (n != RECORD)
		return 0;
	for (i = 0; i < 3; i++)
		if (scan_ulong(s + i * (FIELD + 1), FIELD, v[i]) != FIELD || s[i * (FIELD + 1) + FIELD] != (i < 2 ? ' ' : '\n'))
			return 0;
	return 1;
}

static void field(char *out, unsigned long long v)
{
	char d[FMT_ULONG];
	size_t n = fmt_ulong(d, v);

	memset(out, '0', FIELD - n);
	memcpy(out + FIELD - n, d, n);
}

int sendlimit_take(const char *login, size_t n)
{
	static struct str path;
	struct bucket b = { 0, 0, 0 };
	char buf[RECORD + 1], out[RECORD];
	ssize_t got;
	unsigned long long now = wall_ms();
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
	if (got > 0 && !parse(buf, (size_t)got, &b)) {
		warn("warning: a sending limit bucket that does not read as one, taken as empty: ", path.s);
		b.milli = b.rem = 0;
		b.at_ms = now;
	}
	taken = bucket_take(&b, cfg.sendlimit, 3600000, now);
	field(out, b.milli);
	field(out + FIELD + 1, b.at_ms);
	field(out + 2 * (FIELD + 1), b.rem);
	out[FIELD] = out[2 * FIELD + 1] = ' ';
	out[RECORD - 1] = '\n';
	if (pwrite(fd, out, RECORD, 0) != RECORD)
		goto out;
	r = taken;
out:
	close(fd); /* the lock goes with it */
	return r;
}
