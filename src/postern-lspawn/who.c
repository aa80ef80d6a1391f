#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "str.h"
#include "who.h"

/* A looked-up user is reused for WHO_TTL seconds: one getpwnam and one
 * getgrouplist cost about 0.1 ms with local files (far more with a network
 * directory), a busy recipient gets many messages a second, and a change
 * to a user (removed, new groups, new home) is seen at most WHO_TTL seconds
 * late (doc/postern-lspawn.8).  Only found users are kept: a new user gets
 * mail at once.  -DWHO_TTL=0: no cache. */
#ifndef WHO_TTL
#define WHO_TTL 5
#endif
#ifndef WHO_MAX
#define WHO_MAX (WHO_TTL > 0 ? 64 : 1) /* users kept; the one looked up longest ago goes first */
#endif
#ifndef GROUPS_FIRST
#define GROUPS_FIRST 32 /* room for most users' groups at the first try */
#endif
#define GROUPS_TRIES 3  /* /etc/group can grow between two tries */

struct entry {
	int used;
	time_t at; /* CLOCK_MONOTONIC seconds of the lookup */
	struct str key; /* the name asked for */
	struct str name, home;
	uid_t uid;
	gid_t gid;
	gid_t *groups;
	size_t ngroups, cap;
};

static struct entry cache[WHO_MAX];

/* The kernel refuses more than NGROUPS_MAX at setgroups: no use asking for
 * a bigger list. */
static size_t groups_max(void)
{
	long m = sysconf(_SC_NGROUPS_MAX);
	return m > 0 && m <= NGROUPS_MAX ? (size_t)m : NGROUPS_MAX;
}

static int grow(struct entry *e, size_t want)
{
	gid_t *g;
	if (want <= e->cap)
		return 0;
	g = realloc(e->groups, want * sizeof *g);
	if (!g)
		return -1;
	e->groups = g;
	e->cap = want;
	return 0;
}

/* getgrouplist says -1 when the list does not fit, and (glibc, musl) how
 * many it needs; a libc that does not say gets twice the room. */
static int groups(struct entry *e, const char *name, gid_t gid)
{
	size_t max = groups_max();
	int tries;

	if (grow(e, GROUPS_FIRST < max ? GROUPS_FIRST : max) == -1)
		return -1;
	for (tries = 0; tries < GROUPS_TRIES; tries++) {
		int n = e->cap > INT_MAX ? INT_MAX : (int)e->cap;
		size_t want;
		if (getgrouplist(name, gid, e->groups, &n) != -1) {
			e->ngroups = n >= 0 && (size_t)n <= e->cap ? (size_t)n : e->cap;
			return 0;
		}
		want = n > 0 && (size_t)n > e->cap ? (size_t)n : e->cap * 2;
		if (e->cap >= max) {
			errno = E2BIG;
			return -1;
		}
		if (grow(e, want < max ? want : max) == -1)
			return -1;
	}
	errno = EAGAIN;
	return -1;
}

static int lookup(struct entry *e, const char *name, time_t now)
{
	struct passwd *pw;

	e->used = 0;
	errno = 0;
	pw = getpwnam(name);
	if (!pw)
		return errno && errno != ENOENT && errno != ESRCH ? -1 : 0;
	/* copied: the group lookup may reuse getpwnam's buffer */
	if (!str_copys(&e->key, name) || !str_copys(&e->name, pw->pw_name) || !str_copys(&e->home, pw->pw_dir))
		return -1;
	e->uid = pw->pw_uid;
	e->gid = pw->pw_gid;
	if (groups(e, e->name.s, e->gid) == -1)
		return -1;
	e->at = now;
	e->used = 1;
	return 1;
}

int who_get(const char *name, struct who *w)
{
	struct entry *e = 0, *old = cache;
	struct timespec ts;
	size_t i;
	int r;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return -1;
	for (i = 0; i < WHO_MAX; i++) {
		struct entry *c = cache + i;
		if (c->used && strcmp(c->key.s, name) == 0) {
			e = c;
			break;
		}
		if (old->used && (!c->used || c->at < old->at))
			old = c;
	}
	if (!e || ts.tv_sec - e->at >= WHO_TTL) {
		if (!e)
			e = old;
		r = lookup(e, name, ts.tv_sec);
		if (r != 1)
			return r;
	}
	w->name = e->name.s;
	w->home = e->home.s;
	w->uid = e->uid;
	w->gid = e->gid;
	w->groups = e->groups;
	w->ngroups = e->ngroups;
	return 1;
}
