/* rand.h: bytes from the kernel, uniform choices without bias; and
 * file.h's rename_noreplace, the other system call postern makes itself. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "check.h"
#include "file.h"
#include "rand.h"

#define DRAWS 60000
#define BUCKETS 6

static int bytes_look_random(void)
{
	unsigned char a[64], b[64], zero[64] = { 0 };
	return rand_bytes(a, sizeof a) && rand_bytes(b, sizeof b) && memcmp(a, b, sizeof a) != 0 &&
	       memcmp(a, zero, sizeof a) != 0;
}

static int long_read_fills(void)
{
	/* more than getrandom's 256-byte single-call guarantee */
	static unsigned char big[70000];
	size_t i, zeros = 0;
	if (!rand_bytes(big, sizeof big))
		return 0;
	for (i = 0; i < sizeof big; i++)
		zeros += big[i] == 0;
	return zeros < sizeof big / 100; /* expected 1/256 */
}

static int uniform_in_range_and_spread(void)
{
	unsigned counts[BUCKETS] = { 0 };
	size_t i;
	for (i = 0; i < DRAWS; i++) {
		uint32_t r = rand_uniform(BUCKETS);
		if (r >= BUCKETS)
			return 0;
		counts[r]++;
	}
	/* each expected 10000; 9000..11000 is over 10 standard deviations */
	for (i = 0; i < BUCKETS; i++)
		if (counts[i] < 9000 || counts[i] > 11000)
			return 0;
	return 1;
}

static int uniform_large_bound(void)
{
	/* 3 * 2^30: a plain r % upper would give results below 2^30 half of
	 * the time instead of a third */
	uint32_t upper = 0xC0000000u, r;
	size_t i, low = 0;
	for (i = 0; i < 3000; i++) {
		r = rand_uniform(upper);
		if (r >= upper)
			return 0;
		low += r < 0x40000000u;
	}
	/* expected 1000, standard deviation 26; biased would be 1500 */
	return low > 850 && low < 1150;
}

int main(void)
{
	char dir[] = "/tmp/postern-rand-test.XXXXXX";
	int fd;

	CHECK(bytes_look_random(), "rand_bytes: two draws differ and are not zero");
	CHECK(long_read_fills(), "rand_bytes: a 70,000-byte draw is filled");
	CHECK(rand_uniform(0) == 0 && rand_uniform(1) == 0, "rand_uniform: bounds 0 and 1 give 0");
	CHECK(uniform_in_range_and_spread(), "rand_uniform(6): in range, each value about 1/6");
	CHECK(uniform_large_bound(), "rand_uniform(3 * 2^30): in range, no modulo bias");

	if (!mkdtemp(dir) || chdir(dir) == -1) {
		printf("not ok %d - set up %s\n", ++check_count_, dir);
		return 1;
	}
	fd = open("a", O_WRONLY | O_CREAT | O_EXCL, 0600);
	CHECK(fd != -1 && close(fd) == 0, "file a made");
	fd = open("b", O_WRONLY | O_CREAT | O_EXCL, 0600);
	CHECK(fd != -1 && close(fd) == 0, "file b made");
	CHECK(rename_noreplace(AT_FDCWD, "a", AT_FDCWD, "b") == -1 && errno == EEXIST &&
	          access("a", F_OK) == 0,
	      "rename_noreplace: an existing target stays, EEXIST");
	CHECK(unlink("b") == 0 && rename_noreplace(AT_FDCWD, "a", AT_FDCWD, "b") == 0 &&
	          access("a", F_OK) == -1 && access("b", F_OK) == 0,
	      "rename_noreplace: renames to a free name");
	CHECK(rename_noreplace(AT_FDCWD, "missing", AT_FDCWD, "c") == -1 && errno == ENOENT,
	      "rename_noreplace: a missing source is ENOENT");
	CHECK(unlink("b") == 0 && chdir("/") == 0 && rmdir(dir) == 0, "clean up");
	return check_done();
}
