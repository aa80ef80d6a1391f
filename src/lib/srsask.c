/* One request to postern-srs and its answer (srsask.h).  postern-srs
 * answers from memory, at once: each wait is short and bounded, so that
 * a postern-srs that hangs costs a caller seconds, not its service. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "srsask.h"
#include "addr.h"
#include "case.h"
#include "home.h"
#include "unixsock.h"

#define CONNECT_S 2
#define ANSWER_MS 5000

static int unavailable(struct str *why, const char *text, int err)
{
	if (!str_copys(why, text) || (err && (!str_cats(why, ": ") || !str_cats(why, strerror(err)))))
		why->len = 0;
	return SRS_UNAVAILABLE;
}

/* rec (n bytes) to postern-srs; its answer into ans: the answer's length,
 * or -1 with why set */
static ssize_t exchange(const char *rec, size_t n, char *ans, struct str *why)
{
	static struct str path;
	ssize_t got;
	int s, e;

	if (!path.len && !home_path(&path, SRS_SOCKET)) {
		(void)unavailable(why, "out of memory", 0);
		return -1;
	}
	if ((s = unix_connect(path.s, CONNECT_S)) == -1) {
		(void)unavailable(why, "unable to connect to postern-srs", errno);
		return -1;
	}
	if (send(s, rec, n, MSG_NOSIGNAL) != (ssize_t)n) {
		e = errno;
		(void)close(s);
		(void)unavailable(why, "unable to send the request to postern-srs", e);
		return -1;
	}
	got = unix_recv_record(s, ans, SRS_ANSWER_MAX, ANSWER_MS);
	e = errno;
	(void)close(s);
	if (got == -1)
		(void)unavailable(why, "no answer from postern-srs", e);
	else if (got == 0)
		(void)unavailable(why, "postern-srs closed the connection without an answer", 0);
	return got > 0 ? got : -1;
}

/* What answer ans (n > 0 bytes) means, when its letter is one of ok.  A
 * K's address is an address, of at most SRS_ADDR_MAX bytes, and for an F
 * (domain not 0) an SRS address in the domain asked for: what goes on
 * into an envelope or a frame is checked here, whoever sent it. */
static int answered(const char *ans, size_t n, const char *ok, const char *domain, size_t dn, struct str *out,
                    struct str *why)
{
	const char *p = memchr(ok, ans[0], strlen(ok));
	size_t at;

	if (!p || (ans[0] != 'K' && ans[0] != 'Z' && n != 1) || (ans[0] == 'K' && n == 1))
		return unavailable(why, "postern-srs's answer is malformed", 0);
	if (ans[0] == 'K') {
		at = addr_at(ans + 1, n - 1);
		if (n - 1 > SRS_ADDR_MAX || addr_check(ans + 1, n - 1) != ADDR_OK ||
		    (domain && (at >= n - 1 || !srs_local_is(ans + 1, at) ||
		                !case_eqb(ans + 2 + at, n - 2 - at, domain, dn))))
			return unavailable(why, "postern-srs's answer is not an address it could give", 0);
	}
	switch (ans[0]) {
	case 'K':
		return str_copyb(out, ans + 1, n - 1) ? SRS_OK : SRS_NOMEM;
	case 'Z':
		if (!str_copys(why, "postern-srs: ") || !str_catb(why, ans + 1, n - 1))
			why->len = 0;
		return SRS_UNAVAILABLE;
	case 'S': return SRS_SKIP;
	case 'N': return SRS_NOT;
	case 'M': return SRS_MALFORMED;
	case 'B': return SRS_BADHASH;
	default: return SRS_EXPIRED;
	}
}

int srs_ask_forward(const char *sender, size_t n, const char *domain, size_t dn, struct str *out, struct str *why)
{
	char rec[SRS_REQUEST_MAX], ans[SRS_ANSWER_MAX];
	ssize_t got;

	out->len = 0;
	if (n > SRS_ADDR_MAX)
		return SRS_SKIP;
	if (dn > 253)
		return unavailable(why, "control/srsdomain is longer than a domain name", 0);
	rec[0] = 'F';
	memcpy(rec + 1, sender, n);
	rec[1 + n] = 0;
	memcpy(rec + 2 + n, domain, dn);
	if ((got = exchange(rec, 2 + n + dn, ans, why)) == -1)
		return SRS_UNAVAILABLE;
	return answered(ans, (size_t)got, "KSZ", domain, dn, out, why);
}

int srs_ask_reverse(const char *local, size_t n, struct str *out, struct str *why)
{
	char rec[1 + SRS_ADDR_MAX], ans[SRS_ANSWER_MAX];
	ssize_t got;

	out->len = 0;
	if (n > SRS_ADDR_MAX)
		return SRS_MALFORMED;
	rec[0] = 'R';
	memcpy(rec + 1, local, n);
	if ((got = exchange(rec, 1 + n, ans, why)) == -1)
		return SRS_UNAVAILABLE;
	return answered(ans, (size_t)got, "KNMBEZ", 0, 0, out, why);
}
