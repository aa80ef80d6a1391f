/* room.h */
#include "room.h"

unsigned long long room_bytes(const struct statvfs *v)
{
	unsigned long long blocks = v->f_bavail, size = v->f_frsize ? v->f_frsize : v->f_bsize;

	if (size && blocks > ~0ULL / size)
		return ~0ULL;
	return blocks * size;
}

int room_short(const struct statvfs *v, unsigned long long reserve, unsigned long long more)
{
	unsigned long long need = reserve > ~0ULL - more ? ~0ULL : reserve + more;

	if (reserve == 0)
		return 0;
	if (v->f_files && v->f_favail < ROOM_INODES_MIN)
		return 1;
	return room_bytes(v) < need;
}
