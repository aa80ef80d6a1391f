/* room_short and room_bytes (src/lib/room.c): control/queuefree's
 * arithmetic, on file systems made up here. */
#include <string.h>
#include "check.h"
#include "room.h"

static struct statvfs fs(unsigned long long bavail, unsigned long frsize, unsigned long long files,
                         unsigned long long favail)
{
	struct statvfs v;

	memset(&v, 0, sizeof v);
	v.f_bavail = bavail;
	v.f_bfree = bavail + 100; /* root's reserve is not ours */
	v.f_frsize = frsize;
	v.f_bsize = 4096;
	v.f_files = files;
	v.f_favail = favail;
	return v;
}

int main(void)
{
	struct statvfs v = fs(25600, 4096, 100000, 50000); /* 100 MB */

	CHECK(room_bytes(&v) == 104857600ULL, "bytes: the blocks left to non-root times the fragment size");
	CHECK(!room_short(&v, 50 * 1048576ULL, 50 * 1048576ULL), "exactly the reserve and the message: room");
	CHECK(room_short(&v, 50 * 1048576ULL, 50 * 1048576ULL + 1), "one byte more: short");
	CHECK(!room_short(&v, 0, ~0ULL), "reserve 0: never short");
	CHECK(room_short(&v, 1, ~0ULL) && room_short(&v, ~0ULL, 1), "reserve and size that overflow: short, not wrapped");
	v = fs(~0ULL / 2, 4096, 0, 0);
	CHECK(room_bytes(&v) == ~0ULL && !room_short(&v, ~0ULL - 1, 0), "blocks times size past 2^64: saturated");
	v = fs(25600, 0, 0, 0);
	CHECK(room_bytes(&v) == 25600ULL * 4096, "no f_frsize: f_bsize");
	v = fs(25600, 4096, 100000, 999);
	CHECK(room_short(&v, 1, 0), "999 inodes left: short whatever the bytes");
	v = fs(25600, 4096, 100000, 1000);
	CHECK(!room_short(&v, 1, 0), "1,000 inodes left: room");
	v = fs(25600, 4096, 0, 0);
	CHECK(!room_short(&v, 1, 0), "a file system that counts no inodes (f_files 0): bytes alone");
	return check_done();
}
