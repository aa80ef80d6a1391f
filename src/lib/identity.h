/* How a program started as root becomes its user (postern-local, started
 * by postern-lspawn; postern-pop3d, started by postern-pspawn).  postern-lspawn starts postern-local as
 * root with posix_spawn (doc/postern-local.8, "Start"), and the
 * recipient's identity in the environment:
 *
 *     POSTERN_IDENTITY=UID:GID:G1,G2,...   (decimal; the group list as
 *                                           initgroups would set it, gid
 *                                           included, possibly empty)
 *
 * identity_parse is the pure part (tests/unit/identity.c). */
#ifndef POSTERN_IDENTITY_H
#define POSTERN_IDENTITY_H
#include <stddef.h>
#include <sys/types.h>

#define IDENTITY_VAR "POSTERN_IDENTITY"
#define IDENTITY_GROUPS_MAX 65536 /* the kernel's NGROUPS_MAX */

struct identity {
	uid_t uid;
	gid_t gid;
	gid_t *groups; /* malloc'ed; 0 when ngroups is 0 */
	size_t ngroups;
};

/* 1 and *id filled, 0 for anything but the form above (an id of -1 or of
 * more than 32 bits, a sign, a blank, an empty field, too many groups),
 * -1 out of memory. */
int identity_parse(const char *s, struct identity *id);

/* identity_env.c (apart, so that identity.c needs nothing but ids.c):
 * the variable for the starter, "POSTERN_IDENTITY=UID:GID:G1,G2,..." into
 * e (not NUL-counted; e->s NUL-terminated).  1, or 0 out of memory. */
struct str;
int identity_env(struct str *e, uid_t uid, gid_t gid, const gid_t *groups, size_t ngroups);

/* Called first in main.  Started as root: becomes POSTERN_IDENTITY's user
 * (never root) for good, or returns a text saying why not.  Started by
 * anyone else: stays who it is, and a POSTERN_IDENTITY naming someone
 * else is refused.  The variable is removed either way.  0 on success. */
const char *identity_take(void);
#endif
