#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include "identity.h"
#include "ids.h"

/* One decimal number of at most 32 bits, not 2^32-1 ((uid_t)-1 means "leave
 * unchanged" to setresuid), without a leading zero, ending at `end`;
 * returns where it ends. */
static const char *number(const char *s, char end, uint32_t *out)
{
	uint64_t v = 0;
	const char *start = s;

	while (*s >= '0' && *s <= '9') {
		v = v * 10 + (uint64_t)(*s - '0');
		if (v >= UINT32_MAX)
			return 0;
		s++;
	}
	if (s == start || (s - start > 1 && *start == '0') || *s != end)
		return 0;
	*out = (uint32_t)v;
	return s;
}

int identity_parse(const char *s, struct identity *id)
{
	uint32_t u, g;
	size_t n = 0, i;
	const char *p;

	id->groups = 0;
	id->ngroups = 0;
	if (!(s = number(s, ':', &u)) || !(s = number(s + 1, ':', &g)))
		return 0;
	s++;
	if (*s) {
		for (p = s, n = 1; *p; p++)
			if (*p == ',')
				n++;
		if (n > IDENTITY_GROUPS_MAX)
			return 0;
		if (!(id->groups = malloc(n * sizeof *id->groups)))
			return -1;
		for (i = 0; i < n; i++) {
			uint32_t v;
			if (!(s = number(s, i + 1 < n ? ',' : '\0', &v))) {
				free(id->groups);
				id->groups = 0;
				return 0;
			}
			id->groups[i] = (gid_t)v;
			s++;
		}
	}
	id->uid = (uid_t)u;
	id->gid = (gid_t)g;
	id->ngroups = n;
	return 1;
}

const char *identity_take(void)
{
	const char *spec = getenv(IDENTITY_VAR);
	struct identity id;
	int r;

	if (getuid() != 0 && geteuid() != 0) {
		if (spec && ((r = identity_parse(spec, &id)) != 1 || id.uid != getuid() || id.uid != geteuid() ||
		             id.gid != getgid() || id.gid != getegid()))
			return IDENTITY_VAR " names another user than the one running this program";
		return unsetenv(IDENTITY_VAR) == 0 ? 0 : "unable to clear the environment";
	}
	if (!spec)
		return "started as root without " IDENTITY_VAR ": refusing to run as root";
	r = identity_parse(spec, &id);
	if (r == -1)
		return "out of memory";
	if (r == 0)
		return "malformed " IDENTITY_VAR;
	if (id.uid == 0)
		return IDENTITY_VAR " names root: refusing to run as root";
	switch (ids_become(id.uid, id.gid, id.ngroups, id.groups)) {
	case IDS_CALL_FAILED: return "unable to switch to the user";
	case IDS_DID_NOT_TAKE: return "unable to switch to the user for good";
	}
	free(id.groups);
	return unsetenv(IDENTITY_VAR) == 0 ? 0 : "unable to clear the environment";
}
