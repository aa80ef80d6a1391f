#include "identity.h"
#include "str.h"

int identity_env(struct str *e, uid_t uid, gid_t gid, const gid_t *groups, size_t ngroups)
{
	size_t i;

	if (!str_copys(e, IDENTITY_VAR "=") || !str_catu(e, (unsigned long long)uid) || !str_catc(e, ':') ||
	    !str_catu(e, (unsigned long long)gid) || !str_catc(e, ':'))
		return 0;
	for (i = 0; i < ngroups; i++)
		if ((i && !str_catc(e, ',')) || !str_catu(e, (unsigned long long)groups[i]))
			return 0;
	return 1;
}
