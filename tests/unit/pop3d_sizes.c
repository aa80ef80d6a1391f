/* The sizes in a Maildir name: postern-local's count as it copies
 * (octets_add, and the LF it adds to an unended last line: octets_unended,
 * octets_crlf) must be what postern-pop3d's walk counts and sends
 * (copy_message) for the same content, for every content and every way
 * of cutting it in pieces; and postern-pop3d's parser of ",S=" and ",W=" takes only what
 * is well formed. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "check.h"
#include "postern-pop3d/copy.c"
#include "postern-pop3d/uidl.c"
#include "postern-pop3d/maildrop.c"
/* postern-local's copy_message has the same name as postern-pop3d's */
#define copy_message local_copy_message
#include "postern-local/copy.c"
#undef copy_message

/* pop3d's count of data, read from a file as at login */
static unsigned long long pop3d_count(int fd, const char *data, size_t n)
{
	unsigned long long octets = ~0ULL;

	if (ftruncate(fd, 0) == -1 || pwrite(fd, data, n, 0) != (ssize_t)n || lseek(fd, 0, SEEK_SET) == -1)
		return ~0ULL - 1;
	if (copy_message(fd, 0, COPY_ALL, &octets) != 0)
		return ~0ULL - 2;
	return octets;
}

/* postern-local's count of data, fed in random pieces, its last line
 * ended as maildir.c ends it */
static unsigned long long local_count(const char *data, size_t n)
{
	struct octets o = OCTETS_INIT;
	size_t at = 0;

	while (at < n) {
		size_t k = (size_t)(rnd() % 8);
		if (k > n - at)
			k = n - at;
		octets_add(&o, data + at, k);
		at += k;
	}
	if (o.bytes != n)
		return ~0ULL - 3;
	if (octets_unended(&o))
		octets_add(&o, "\n", 1);
	return octets_crlf(&o);
}

static int sizes(const char *name, unsigned long long *s, unsigned long long *w)
{
	return maildrop_name_sizes(name, strlen(name), s, w);
}

int main(void)
{
	static const char alphabet[] = "a\r\n.";
	static const struct { const char *data; unsigned long long want; } fixed[] = {
		{ "", 0 },
		{ "a", 3 },          /* a last line without LF: pop3d sends CRLF, local adds LF */
		{ "a\r", 3 },        /* ... only the LF after a CR */
		{ "a\n", 3 },
		{ "a\r\n", 3 },      /* a CRLF stays */
		{ "\n", 2 },
		{ "\r", 2 },
		{ "\n\n", 4 },
		{ "\r\r\n", 3 },
		{ "a\rb\n", 5 },     /* a bare CR inside a line is sent as it is */
		{ ".\n..\n", 7 },    /* the stuffed dots are not the message's */
	};
	char data[600];
	unsigned long long s, w;
	size_t i, j, bad = 0;
	int fd = memfd_create("pop3d_sizes", 0);

	CHECK(fd != -1, "a memory file for the contents");
	for (i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
		size_t n = strlen(fixed[i].data);
		if (pop3d_count(fd, fixed[i].data, n) != fixed[i].want || local_count(fixed[i].data, n) != fixed[i].want)
			bad++;
	}
	CHECK(bad == 0, "fixed contents: both counts as RFC 1939 sends them (bare LF, CRLF, CR, no last LF, dots)");
	bad = 0;
	for (i = 0; i < 20000; i++) {
		size_t n = (size_t)(rnd() % sizeof data);
		for (j = 0; j < n; j++)
			data[j] = alphabet[rnd() % 4];
		if (pop3d_count(fd, data, n) != local_count(data, n))
			bad++;
	}
	CHECK(bad == 0, "20,000 random contents of a, CR, LF and dot, in random pieces: W as postern-local counts it "
	                "is what postern-pop3d counts");
	{
		/* more than pop3d's 64 KB read, with a CRLF across the boundary */
		static char big[200000];
		for (j = 0; j < sizeof big; j++)
			big[j] = j % 100 == 99 ? '\n' : 'x';
		big[CHUNK - 1] = '\r';
		big[CHUNK] = '\n';
		CHECK(pop3d_count(fd, big, sizeof big) == local_count(big, sizeof big) &&
		      local_count(big, sizeof big) == sizeof big + 2000,
		      "200 KB, a CRLF across pop3d's 64 KB read: the counts agree");
	}
	close(fd);

	CHECK(sizes("1733000000.M123P45R0123456789abcdef.host,S=1234,W=1260", &s, &w) && s == 1234 && w == 1260,
	      "postern-local's name: S and W");
	CHECK(sizes("1733000000.M123P45.host,S=1234,W=1260:2,S", &s, &w) && s == 1234 && w == 1260,
	      "with flags after ':'");
	CHECK(sizes("1.host,W=12,S=10:2,", &s, &w) && s == 10 && w == 12, "W before S");
	CHECK(sizes("1.host,S=10,X=abc,W=12", &s, &w) && s == 10 && w == 12, "another writer's field is left be");
	CHECK(sizes("1.host,S=10,W=12:2,S=5,W=6", &s, &w) && s == 10 && w == 12, "fields after ':' are flags, not sizes");
	CHECK(sizes("1.host,S=0,W=0", &s, &w) && s == 0 && w == 0, "an empty file: S=0 W=0");
	CHECK(sizes("1.host,S=10,W=21", &s, &w) && w == 21, "W = 2S+1 (every byte but the last an LF)");
	CHECK(sizes("1.host,S=007,W=8", &s, &w) && s == 7, "leading zeros are digits");
	CHECK(sizes("1.host,S=18446744073709551614,W=18446744073709551615", &s, &w) && s == 18446744073709551614ULL,
	      "the largest numbers that fit");
	{
		static const char *const bad_names[] = {
			"1.host",                          /* no fields */
			"1.host:2,S=5,W=6",                /* only after ':' */
			"1.host,S=,W=6",                   /* empty */
			"1.host,S=5,W=",
			"1.host,S=12x,W=13",               /* not digits */
			"1.host,S=5,W=6x",
			"1.host,S=+5,W=6",
			"1.host,S=-5,W=6",
			"1.host,S= 5,W=6",
			"1.host,S=0x5,W=6",
			"1.host,S=99999999999999999999999,W=99999999999999999999999", /* too big */
			"1.host,S=18446744073709551616,W=18446744073709551616",       /* 2^64 */
			"1.host,S=5,W=4",                  /* W < S */
			"1.host,S=5,W=12",                 /* W > 2S+1 */
			"1.host,S=0,W=1",
			"1.host,S=5",                      /* one of them only */
			"1.host,W=6",
			"1.host,S=5,S=5,W=6",              /* twice */
			"1.host,S=5,W=6,W=6",
			"1.host,s=5,w=6",                  /* other letters */
			"1.host,S5,W6",
		};
		bad = 0;
		for (i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++)
			if (sizes(bad_names[i], &s, &w)) {
				bad++;
				printf("# taken: %s\n", bad_names[i]);
			}
		CHECK(bad == 0, "malformed, missing, doubled, overflowing or impossible fields are refused (21 names)");
	}
	CHECK(maildrop_name_sizes("1.host,S=5,W=6,S=9", 14, &s, &w) && s == 5 && w == 6,
	      "only the name's length is read: a second S past it is not seen");
	return check_done();
}
