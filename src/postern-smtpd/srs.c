/* The way back of SRS (doc/srs.md): a bounce of a copy postern-send
 * forwarded comes back to an address like
 * SRS0=HHHHHH=TT=example.org=alice@srs.domain, and is turned back here into
 * alice@example.org once postern-srs, which holds the key, says its
 * signature and date check out.
 *
 * postern-smtpd is started once a connection and its start-up is measured,
 * so nothing is read until a RCPT's local part starts as an SRS address
 * does: control/srsdomain then, at most once a session, and only an
 * address in that domain is taken to postern-srs.  Every uid may ask it
 * (sendmail -bs too, as the local user who runs it); a postern-srs that
 * cannot answer has the RCPT answered 451, and the rest of the session's
 * SRS addresses too, without asking again. */
#include <errno.h>
#include <string.h>
#include "smtpd.h"
#include "srs.h"
#include "srsask.h"
#include "srsfiles.h"
#include "case.h"
#include "control.h"
#include "die.h"
#include "log.h"

static int domain_state; /* 0 not read, 1 srsdomain holds it, 2 SRS off, -1 unusable */
static struct str srsdomain;
static int asked_in_vain; /* postern-srs could not answer once this session */
static struct str asked_why;

/* what (file=control/srsdomain or service=postern-srs) could not be
 * used, and why (n bytes): the admin's to fix; the client is told only to
 * try again later */
static void unavailable(const char *key, const char *what, const char *why, size_t n)
{
	struct logline l = { STR_INIT };
	log_begin(&l, "srs_unavailable");
	log_kv(&l, "ip", client.ip);
	log_kv(&l, key, what);
	log_kvb(&l, "why", why, n);
	log_end(&l);
}

static void read_domain(void)
{
	int r = control_line("srsdomain", &srsdomain);

	if (r == -1) {
		const char *e = strerror(errno);
		unavailable("file", "control/srsdomain", e, strlen(e));
		domain_state = -1;
	} else if (r == 0 || srsdomain.len == 0) {
		domain_state = 2;
	} else if (!srs_domain_usable(srsdomain.s, srsdomain.len)) {
		unavailable("file", "control/srsdomain", "not a domain name", strlen("not a domain name"));
		domain_state = -1;
	} else {
		domain_state = 1;
	}
}

enum srs_verdict srs_rcpt(const char *addr, size_t len, size_t at, struct str *out, const char **why)
{
	int r;

	if (!srs_local_is(addr, at))
		return SRSV_NO;
	if (domain_state == 0)
		read_domain();
	if (domain_state == 2)
		return SRSV_NO;
	/* with control/srsdomain unusable nobody can tell which addresses
	 * are ours: none is taken or refused for good */
	if (domain_state == -1)
		return SRSV_TEMP;
	if (!case_eqb(addr + at + 1, len - at - 1, srsdomain.s, srsdomain.len))
		return SRSV_NO;
	if (asked_in_vain)
		return SRSV_TEMP;
	r = srs_ask_reverse(addr, at, out, &asked_why);
	*why = srs_strerror(r);
	switch (r) {
	case SRS_OK: return SRSV_OK;
	case SRS_EXPIRED: return SRSV_EXPIRED;
	case SRS_NOMEM: die_nomem();
	case SRS_UNAVAILABLE:
		asked_in_vain = 1;
		unavailable("service", "postern-srs", asked_why.s, asked_why.len);
		return SRSV_TEMP;
	default: return SRSV_BAD; /* malformed, or a signature none of the keys made */
	}
}
