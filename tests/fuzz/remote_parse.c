/* libFuzzer target for what postern-remote reads from the Internet: DNS
 * answers (src/postern-remote/dns.c: dns_parse_mx, dns_parse_addrs, and
 * dns_parse_tlsa for a first byte of 0xf0 and more) and
 * SMTP replies (src/postern-remote/reply.c: reply_read over a file
 * descriptor, then reply_quote, which makes the text that reaches logs and
 * bounces).  The first byte picks the parser, the rest is the input.
 * Besides the sanitizers' checks it asserts the bounds each promises.
 * Built and run by tests/fuzz.sh. */
#include <arpa/nameser.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "postern-remote/remote.h"

#define MX_MAX 16
#define OUT_MAX 16
#define QUOTE_MAX 300

static void mx(const uint8_t *d, size_t n)
{
	static struct mx out[MX_MAX];
	int nullmx, i, r = dns_parse_mx(d, n, out, MX_MAX, &nullmx);

	if (r < -1 || r > MX_MAX)
		abort();
	for (i = 0; i < r; i++) {
		size_t l = strnlen(out[i].name, sizeof out[i].name);
		if (l == 0 || l > 253)
			abort();
	}
}

static void addrs(const uint8_t *d, size_t n, int type)
{
	static struct addr out[OUT_MAX];
	int i, r = dns_parse_addrs(d, n, type, out, OUT_MAX);

	if (r < -1 || r > OUT_MAX)
		abort();
	for (i = 0; i < r; i++)
		if (out[i].af != (type == ns_t_a ? AF_INET : AF_INET6))
			abort();
}

static void reply(const uint8_t *d, size_t n)
{
	static char buf[4096];
	struct reply r = { 0, STR_INIT, 0 };
	struct str q = STR_INIT;
	struct io in;
	size_t i;
	int fd = memfd_create("reply", MFD_CLOEXEC);

	if (fd == -1)
		return;
	if (write(fd, d, n) != (ssize_t)n || lseek(fd, 0, SEEK_SET) != 0) {
		close(fd);
		return;
	}
	io_init(&in, fd, buf, sizeof buf);
	/* every reply the input holds, as a session reads them one by one */
	while (reply_read(&in, &r) == 0) {
		if (r.code < 200 || r.code > 599)
			abort();
		if (r.text.len > (size_t)REPLY_LINES_MAX * REPLY_LINE_MAX)
			abort();
		q.len = 0;
		reply_quote(&r, &q, QUOTE_MAX);
		if (q.len > QUOTE_MAX + 4)
			abort();
		for (i = 0; i < q.len; i++)
			if ((unsigned char)q.s[i] < 0x20 || (unsigned char)q.s[i] >= 0x7f)
				abort(); /* the quoted text goes into log lines and bounces */
	}
	if (r.code != 0 || !r.err)
		abort();
	str_free(&r.text);
	str_free(&q);
	close(fd);
}

static void tlsa(const uint8_t *d, size_t n)
{
	struct str list = STR_INIT;
	const char *prev = "";
	size_t usable, total, off, k = 0;
	int r = dns_parse_tlsa(d, n, &list, &usable, &total);

	if (r < -2 || r > 0 || usable > total)
		abort();
	/* what goes on to postern-tlsd: usable records only, each one a
	 * string tlsa_text_ok takes, in order, at most TLSA_RECORDS_MAX */
	for (off = 0; r == 0 && off < list.len; off += strlen(list.s + off) + 1, k++) {
		if (!tlsa_text_ok(list.s + off, strlen(list.s + off)))
			abort();
		if (k && strcmp(prev, list.s + off) > 0)
			abort();
		prev = list.s + off;
	}
	if (r == 0 && k != (usable < TLSA_RECORDS_MAX ? usable : TLSA_RECORDS_MAX))
		abort();
	str_free(&list);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] >= 0xf0) { /* above the four older parsers' first bytes */
		tlsa(data + 1, size - 1);
		return 0;
	}
	switch (data[0] % 4) {
	case 0: mx(data + 1, size - 1); break;
	case 1: addrs(data + 1, size - 1, ns_t_a); break;
	case 2: addrs(data + 1, size - 1, ns_t_aaaa); break;
	default: reply(data + 1, size - 1); break;
	}
	return 0;
}
