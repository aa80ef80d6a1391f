/* The way back of SRS (doc/srs.md): a bounce of a copy postern-send
 * forwarded comes back to an address like
 * SRS0=HHHHHH=TT=example.org=alice@srs.domain, and is turned back here into
 * alice@example.org once its signature and date check out.
 *
 * postern-smtpd is started once a connection and its start-up is measured,
 * so nothing is read until a RCPT's local part starts as an SRS address
 * does: control/srsdomain then, and HOME/secret/srs/key only when the
 * domain is control/srsdomain too; each at most once a session.  The key
 * is readable by group postern-srs alone, which postern-listen -G gives
 * the sessions of port 25 and of submission; `sendmail -bs`, run by a
 * local user, cannot read it and answers 451. */
#include <errno.h>
#include <string.h>
#include <time.h>
#include "smtpd.h"
#include "srs.h"
#include "srsfiles.h"
#include "case.h"
#include "control.h"
#include "die.h"
#include "log.h"

static int domain_state; /* 0 not read, 1 srsdomain holds it, 2 SRS off, -1 unusable */
static struct str srsdomain;
static int key_state;    /* 0 not read, 1 keys hold it, -1 unusable */
static struct srs_keys keys;

/* file could not be used, and why: the admin's to fix; the client is
 * told only to try again later */
static void unavailable(const char *file, const char *why)
{
	struct logline l = { STR_INIT };
	log_begin(&l, "srs_unavailable");
	log_kv(&l, "ip", client.ip);
	log_kv(&l, "file", file);
	log_kv(&l, "why", why);
	log_end(&l);
}

static void read_domain(void)
{
	int r = control_line("srsdomain", &srsdomain);

	if (r == -1) {
		unavailable("control/srsdomain", strerror(errno));
		domain_state = -1;
	} else if (r == 0 || srsdomain.len == 0) {
		domain_state = 2;
	} else if (!srs_domain_usable(srsdomain.s, srsdomain.len)) {
		unavailable("control/srsdomain", "not a domain name");
		domain_state = -1;
	} else {
		domain_state = 1;
	}
}

static void read_key(void)
{
	struct str path = STR_INIT;
	const char *why;
	int r = srs_keys_load(&keys, &path, &why);

	if (r == -1)
		die_nomem();
	key_state = r == 1 ? 1 : -1;
	if (r == 0)
		unavailable(path.s, why);
	str_free(&path);
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
	if (key_state == 0)
		read_key();
	if (key_state == -1)
		return SRSV_TEMP;
	r = srs_reverse(out, addr, at, &keys, srs_day((long long)time(0)));
	*why = srs_strerror(r);
	switch (r) {
	case SRS_OK: return SRSV_OK;
	case SRS_EXPIRED: return SRSV_EXPIRED;
	case SRS_NOMEM: die_nomem();
	default: return SRSV_BAD; /* malformed, or a signature none of our keys made */
	}
}
