/* Dropping root for good, in the one order that works: supplementary
 * groups, then gid, then uid (each step needs the privilege the next one
 * drops), then a check that every id took and that root cannot be had
 * back.  postern-start, postern-listen and postern-local use it. */
#ifndef POSTERN_IDS_H
#define POSTERN_IDS_H
#include <stddef.h>
#include <sys/types.h>

#define IDS_CALL_FAILED -1   /* a set*id call failed: errno says why */
#define IDS_DID_NOT_TAKE -2  /* the calls succeeded but the ids are not all uid:gid, or root came back */
/* 0 when the process is now uid:gid with exactly groups[0..n) for good. */
int ids_become(uid_t uid, gid_t gid, size_t ngroups, const gid_t *groups);
#endif
