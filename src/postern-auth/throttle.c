/* Addresses that keep giving wrong passwords (doc/pop3.md, "Throttle").
 * After control/authfailures wrong answers from one address within
 * THROTTLE_WINDOW seconds of its first, its requests are answered Z
 * without a check until that window ends: a guesser from one address
 * gets no more answers, and no more of the one argon2id check at a time
 * that every login waits for.  An address counts by src/lib/ipkey.c's
 * key, as postern-listen's per-address limit does (an IPv6 one by its
 * /64), an IPv4-mapped IPv6 address as the IPv4 one.  A right password resets nothing: one known account would
 * otherwise clear the way for guesses at the others.  The table is
 * bounded; a new address takes the slot whose window began first, and
 * a clean stop keeps the table for the next start (throttle_save). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "auth.h"
#include "file.h"
#include "fmt.h"
#include "io.h"
#include "ipkey.h"

#define THROTTLE_SLOTS 4096

struct slot {
	unsigned char key[IPKEY_LEN];
	unsigned long count;
	time_t since;
};
static struct slot slots[THROTTLE_SLOTS];
static size_t used;
static unsigned long long limit;

void throttle_init(unsigned long long failures) { limit = failures; }

/* The key of ip (n bytes, as the client program wrote it): 0 for an
 * address that cannot be read (an empty one: nothing to count). */
static int key_of(const char *ip, size_t n, unsigned char key[IPKEY_LEN])
{
	char s[REMOTEIP_MAX + 1];
	unsigned char b[16];
	static const unsigned char mapped[12] = { [10] = 0xff, [11] = 0xff };
	int family;

	if (n == 0 || n > REMOTEIP_MAX)
		return 0;
	memcpy(s, ip, n);
	s[n] = 0;
	family = memchr(s, ':', n) ? AF_INET6 : AF_INET;
	if (inet_pton(family, s, b) != 1)
		return 0;
	if (family == AF_INET6 && !memcmp(b, mapped, 12)) {
		/* ::ffff:192.0.2.1 is 192.0.2.1 written another way */
		ip_key(key, AF_INET, b + 12);
		return 1;
	}
	ip_key(key, family, b);
	return 1;
}

static struct slot *find(const unsigned char key[IPKEY_LEN])
{
	size_t i;
	for (i = 0; i < used; i++)
		if (!memcmp(slots[i].key, key, IPKEY_LEN))
			return &slots[i];
	return 0;
}

int throttle_blocked(const char *ip, size_t n, time_t now)
{
	unsigned char key[IPKEY_LEN];
	struct slot *s;

	if (!limit || !key_of(ip, n, key) || !(s = find(key)))
		return 0;
	if (now - s->since >= THROTTLE_WINDOW || now < s->since)
		return 0;
	return s->count >= limit;
}

void throttle_failed(const char *ip, size_t n, time_t now)
{
	unsigned char key[IPKEY_LEN];
	struct slot *s;
	size_t i;

	if (!limit || !key_of(ip, n, key))
		return;
	s = find(key);
	if (!s) {
		if (used < THROTTLE_SLOTS) {
			s = &slots[used++];
		} else {
			s = &slots[0];
			for (i = 1; i < used; i++)
				if (slots[i].since < s->since)
					s = &slots[i];
		}
		memcpy(s->key, key, IPKEY_LEN);
		s->count = 0;
		s->since = now;
	}
	if (now - s->since >= THROTTLE_WINDOW || now < s->since) {
		s->count = 0;
		s->since = now;
	}
	s->count++;
}

/* Across a restart (doc/pop3.md, "Throttle"): at a clean stop the counts
 * still inside their window go to a file, one line an address,
 *     KEY COUNT SINCE
 * KEY the address's key in hex, COUNT its wrong passwords, SINCE the wall
 * clock (seconds since 1970) of its first; after a first line naming the
 * format.  The next start reads it, takes what is still inside its window
 * and removes it.  The table runs on the monotonic clock, which a reboot
 * starts again: the file holds wall-clock times, so that a count can be
 * aged by the time that passed while postern-auth was not running. */
#define STATE_HEAD "postern-auth throttle 1\n"
#define STATE_LINE_MAX (2 * IPKEY_LEN + 1 + FMT_ULONG + 1 + FMT_ULONG + 1)

/* One line (without its LF) into key, count and since: 1, or 0 when it
 * is not one. */
static int state_line(const char *s, size_t n, unsigned char key[IPKEY_LEN], unsigned long long *count,
                      unsigned long long *since)
{
	size_t digits;

	if (n < 2 * IPKEY_LEN + 4 || s[2 * IPKEY_LEN] != ' ' || !scan_hex(s, 2 * IPKEY_LEN, key))
		return 0;
	if (key[0] != 4 && key[0] != 6)
		return 0;
	s += 2 * IPKEY_LEN + 1;
	n -= 2 * IPKEY_LEN + 1;
	digits = scan_ulong(s, n, count);
	if (!digits || digits == n || s[digits] != ' ' || *count == 0 || *count > 0xffffffffULL)
		return 0;
	return scan_ulong_all(s + digits + 1, n - digits - 1, since) && *since > 0;
}

void throttle_parse(const char *text, size_t len, time_t now, time_t wall, struct throttle_loaded *out)
{
	size_t at, n;

	if (len < sizeof STATE_HEAD - 1 || memcmp(text, STATE_HEAD, sizeof STATE_HEAD - 1)) {
		out->problem = "not in the format this postern-auth writes";
		return;
	}
	for (at = sizeof STATE_HEAD - 1; at < len; at += n + 1) {
		const char *lf = memchr(text + at, '\n', len - at);
		unsigned char key[IPKEY_LEN];
		unsigned long long count, since;
		time_t age;

		n = lf ? (size_t)(lf - (text + at)) : len - at;
		if (!lf || !state_line(text + at, n, key, &count, &since) || find(key) || used == THROTTLE_SLOTS ||
		    since > (unsigned long long)wall) {
			out->skipped++;
			continue;
		}
		age = wall - (time_t)since;
		if (age >= THROTTLE_WINDOW) {
			out->skipped++; /* its window is over */
			continue;
		}
		memcpy(slots[used].key, key, IPKEY_LEN);
		slots[used].count = (unsigned long)count;
		slots[used].since = now - age;
		used++;
		out->kept++;
	}
}

void throttle_load(const char *path, time_t now, struct throttle_loaded *out)
{
	struct str text = STR_INIT;
	struct stat st;
	int fd = openat(AT_FDCWD, path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

	out->kept = out->skipped = 0;
	out->problem = 0;
	if (fd == -1) {
		if (errno != ENOENT)
			out->problem = "unable to open it";
		return;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022))
		out->problem = "not a regular file of our own that only we may write";
	else if (read_fd(fd, &text, sizeof STATE_HEAD + THROTTLE_SLOTS * STATE_LINE_MAX) != 1)
		out->problem = errno == EFBIG ? "too big" : "unable to read it";
	else
		throttle_parse(text.s, text.len, now, time(0), out);
	close(fd);
	str_free(&text);
	/* read once: a crash later must not bring these counts back again.
	 * A file left unread stays for the admin to see (the next clean stop
	 * with counts to keep renames over it). */
	if (!out->problem && unlink(path) == -1 && errno != ENOENT)
		out->problem = "unable to remove it after reading";
}

int throttle_save(const char *path, const char *tmp, time_t now, size_t *saved)
{
	struct str text = STR_INIT;
	time_t wall = time(0);
	size_t i;

	*saved = 0;
	if (!str_cats(&text, STATE_HEAD))
		return -1;
	for (i = 0; i < used; i++) {
		char num[FMT_ULONG];
		time_t age = now - slots[i].since;
		if (!slots[i].count || age < 0 || age >= THROTTLE_WINDOW || wall - age <= 0)
			continue;
		if (!str_cathex(&text, slots[i].key, IPKEY_LEN) || !str_catc(&text, ' ') || !str_catb(&text, num, fmt_ulong(num, slots[i].count)) ||
		    !str_catc(&text, ' ') || !str_catb(&text, num, fmt_ulong(num, (unsigned long long)(wall - age))) ||
		    !str_catc(&text, '\n'))
			goto nomem;
		(*saved)++;
	}
	if (*saved == 0) {
		str_free(&text);
		return 0; /* nothing to keep: no file (the last one went at the start) */
	}
	if (file_replace(path, tmp, text.s, text.len, 0600, 0) == -1)
		goto fail;
	str_free(&text);
	return 0;
nomem:
	errno = ENOMEM;
fail:
	str_free(&text);
	return -1;
}
