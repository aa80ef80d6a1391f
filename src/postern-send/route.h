/* Which recipients are local, exactly as doc/architecture.md says, with the
 * user lookup passed in so tests/unit/send_route.c can check the rules
 * without /etc/passwd. */
#ifndef POSTERN_SEND_ROUTE_H
#define POSTERN_SEND_ROUTE_H
#include <stddef.h>
#include "str.h"

enum route_kind { ROUTE_LOCAL = 1, ROUTE_REMOTE = 2 };

struct route_conf {
	struct str locals;   /* NUL-separated domains (control/locals, or me and localhost) */
	struct str virtuals; /* NUL-separated domains (control/virtualdomains) */
	struct str seps;     /* separator bytes (control/separators, default "-") */
	unsigned long long minuid;
	const char *vmail;   /* conf_users[USER_VMAIL] */
	const char *alias;   /* conf_users[USER_ALIAS] */
	/* 1 and *uid set if name is a Unix user, 0 if not. */
	int (*lookup)(const char *name, unsigned long long *uid);
};

/* Sets user and ext (NUL-terminated, lower-cased) for a local recipient.
 * Returns ROUTE_LOCAL, ROUTE_REMOTE, or -1 when out of memory. */
int route(const struct route_conf *c, const char *addr, size_t len, struct str *user,
          struct str *ext);
/* 1 if addr's domain is local or virtual: route() says ROUTE_LOCAL for
 * it, whoever the user is.  Asks for no user (postern-send's reports
 * use it before routing has begun). */
int route_is_local(const struct route_conf *c, const char *addr, size_t len);
#endif
