#include <string.h>
#include <sys/wait.h>
#include "spawn.h"
#include "addr.h"
#include "envelope.h"
#include "fmt.h"
#include "uniq.h"
#include "username.h"

static int plain(const char *s, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

int spawn_check(const char *const *f, const size_t *fl)
{
	unsigned long long job;
	if (!scan_ulong_all(f[0], fl[0], &job) || fl[0] > JOB_MAX)
		return 1;
	if (!qid_valid(f[1], fl[1]))
		return 2;
	if (!username_ok(f[2], fl[2]))
		return 3;
	/* any byte an address may hold: postern-local decides what may become a file name */
	if (fl[3] > EXT_MAX_ || !plain(f[3], fl[3]))
		return 4;
	if (addr_check(f[4], fl[4]) != ADDR_OK)
		return 5;
	if (envelope_sender_ok(f[5], fl[5]) != ENV_OK)
		return 6;
	return 0;
}

const char *spawn_field_name(int bad)
{
	static const char *const names[] = { "nothing", "JOB", "QID", "USER", "EXT", "RECIPIENT", "SENDER" };
	return bad >= 0 && bad <= 6 ? names[bad] : "field";
}

enum spawn_mode spawn_user_allowed(const char *name, unsigned long long uid,
                                   unsigned long long minuid, const char *vmail, const char *alias)
{
	if (uid == 0)
		return SPAWN_REFUSED;
	if (strcmp(name, vmail) == 0)
		return SPAWN_VIRTUAL;
	if (strcmp(name, alias) == 0)
		return SPAWN_ALIAS;
	return uid >= minuid ? SPAWN_USER : SPAWN_REFUSED;
}

size_t spawn_text(const char *text, size_t tlen, int status, char *out, char *st)
{
	size_t i, n = 0, a = 0;
	char num[FMT_ULONG];

	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		*st = 'K';
	else if (WIFEXITED(status) && WEXITSTATUS(status) == 100)
		*st = 'D';
	else
		*st = 'Z';
	if (tlen > TEXT_MAX)
		tlen = TEXT_MAX;
	for (i = 0; i < tlen; i++) {
		unsigned char c = (unsigned char)text[i];
		out[n++] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
	}
	while (a < n && out[a] == ' ')
		a++;
	while (n > a && out[n - 1] == ' ')
		n--;
	if (a) {
		memmove(out, out + a, n - a);
		n -= a;
	}
	if (n)
		return n;
#define PUT(s) do { size_t l_ = strlen(s); memcpy(out + n, (s), l_); n += l_; } while (0)
	if (WIFSIGNALED(status)) {
		PUT("postern-local killed by signal ");
		num[fmt_ulong(num, (unsigned long long)WTERMSIG(status))] = 0;
		PUT(num);
	} else if (*st == 'K')
		PUT("delivered");
	else {
		PUT("postern-local exited ");
		num[fmt_ulong(num, WIFEXITED(status) ? (unsigned long long)WEXITSTATUS(status) : 0)] = 0;
		PUT(num);
	}
#undef PUT
	return n;
}
