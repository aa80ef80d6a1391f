#include <grp.h>
#include <unistd.h>
#include "ids.h"

int ids_become(uid_t uid, gid_t gid, size_t ngroups, const gid_t *groups)
{
	if (setgroups(ngroups, groups) == -1 || setgid(gid) == -1 || setuid(uid) == -1)
		return IDS_CALL_FAILED;
	if (getuid() != uid || geteuid() != uid || getgid() != gid || getegid() != gid || setuid(0) != -1)
		return IDS_DID_NOT_TAKE;
	return 0;
}
