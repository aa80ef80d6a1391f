/* libFuzzer target for the envelope reader of postern-queue, the setuid
 * program every local user can feed (src/postern-queue/envelope_in.c),
 * and for envelope_parse (src/lib/envelope.c), which every later reader
 * of the stored envelope uses.  The input is what arrives on fd 1, given
 * through a memfd.  Asserts the promise postern-queue relies on before it
 * stores anything: whatever envelope_in accepts, envelope_parse accepts
 * too, with the same sender and recipients, each a checked address,
 * within the limits, unless it holds DSN or forward records (doc/dsn.md,
 * doc/srs.md), which envelope_in passes on for envelope_parse to judge
 * (postern-queue then exits 91); and each DSN record envelope_parse
 * accepts is the one it says belongs to its recipient, and a forward
 * record sets forwarded.
 * (Inputs stay under 4 KB, so the limits on size and count are not
 * reached here; tests/t-queue-badinput.sh tests those.)
 * Built and run by tests/fuzz.sh. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "postern-queue/queue.h"
#include "addr.h"
#include "envelope.h"
#include "esmtpdsn.h"

/* Does the envelope envelope_in kept hold a DSN or forward record? */
static int dsn_records(const struct str *env)
{
	size_t pos = 0;

	while (pos < env->len) {
		if (memchr("RENOS", env->s[pos], 5) && env->s[pos])
			return 1;
		pos += strlen(env->s + pos) + 1;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct str env = STR_INIT;
	struct envelope e;
	const char *why = "";
	size_t i;
	int fd, code;

	/* envelope_parse on the raw bytes: any answer, no fault */
	if (envelope_parse(&e, (const char *)data, size) == ENV_OK)
		envelope_free(&e);

	fd = memfd_create("envelope", MFD_CLOEXEC);
	if (fd == -1)
		return 0;
	if (write(fd, data, size) != (ssize_t)size || lseek(fd, 0, SEEK_SET) != 0) {
		close(fd);
		return 0;
	}
	code = envelope_in(fd, &env, &why);
	close(fd);
	if (code != 0) {
		if (!why || !*why)
			abort(); /* every refusal says why */
		str_free(&env);
		return 0;
	}
	if (env.len > QQ_ENV_MAX + 1 || env.len > size || env.len < 3 || env.s[0] != 'F')
		abort();
	if (envelope_parse(&e, env.s, env.len) != ENV_OK) {
		if (!dsn_records(&env))
			abort();
		str_free(&env);
		return 0;
	}
	if (e.nrcpt == 0 || e.nrcpt > QQ_RCPT_MAX)
		abort();
	/* the same sender and the same recipients, in order, as the records
	 * envelope_in kept: F, DSN records, T ... then the final NUL */
	{
		const char *p = env.s + 1, *o;
		size_t l = strlen(p);
		if (e.sender_len != l || memcmp(e.sender, p, l) != 0)
			abort();
		p += l + 1;
		if (*p == 'R') {
			if (!e.ret)
				abort();
			p += strlen(p) + 1;
		}
		if (*p == 'E') {
			l = strlen(p + 1);
			if (e.envid_len != l || memcmp(e.envid, p + 1, l) != 0)
				abort();
			p += l + 2;
		}
		if ((*p == 'S') != (e.forwarded != 0))
			abort();
		if (*p == 'S')
			p += 2;
		for (i = 0; i < e.nrcpt; i++) {
			unsigned notify = DSN_NOTIFY_DEFAULT;
			size_t ol = 0;
			if (*p == 'N') {
				notify = dsn_notify_canonical(p + 1, strlen(p + 1));
				p += strlen(p) + 1;
			}
			if (*p == 'O') {
				ol = strlen(p + 1);
				if (envelope_orcpt(&e, i, &o) != ol || memcmp(o, p + 1, ol) != 0)
					abort();
				p += ol + 2;
			}
			if (envelope_notify(&e, i) != notify || (!ol && envelope_orcpt(&e, i, &o) != 0))
				abort();
			if (*p != 'T')
				abort();
			l = strlen(p + 1);
			if (e.rcpt_len[i] != l || memcmp(e.rcpt[i], p + 1, l) != 0 ||
			    addr_check(e.rcpt[i], e.rcpt_len[i]) != ADDR_OK)
				abort();
			p += l + 2;
		}
		if (p != env.s + env.len - 1 || *p != 0)
			abort();
	}
	envelope_free(&e);
	str_free(&env);
	return 0;
}
