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
#include "addr.h"
#include "case.h"
#include "control.h"
#include "die.h"
#include "file.h"
#include "home.h"
#include "log.h"

/* A key file holds at most SRS_KEYS_MAX lines of 32 hex digits and a few
 * comments: read_fd's first buffer holds it without a realloc, which
 * would leave a copy of the key behind in freed memory. */
#define KEY_FILE_MAX 4000

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
	} else if (srsdomain.s[0] == '[' || !domain_check(srsdomain.s, srsdomain.len)) {
		/* an address literal is no domain an SPF record can be found for */
		unavailable("control/srsdomain", "not a domain name");
		domain_state = -1;
	} else {
		domain_state = 1;
	}
}

static void read_key(void)
{
	struct str path = STR_INIT, text = STR_INIT;
	int r;

	if (!home_path(&path, SRS_KEY_FILE))
		die_nomem();
	r = read_file(path.s, &text, KEY_FILE_MAX);
	key_state = -1;
	if (r == 1 && srs_keys_parse(&keys, text.s, text.len))
		key_state = 1;
	else if (r == 1)
		unavailable(path.s, "malformed key file: each line 32 hex digits, at most 8 keys");
	else
		unavailable(path.s, r == 0 ? strerror(ENOENT) : errno == EFBIG ? "key file too long" : strerror(errno));
	str_wipe(&text);
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
