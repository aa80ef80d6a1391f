#include <string.h>
#include "srssign.h"
#include "srsfiles.h"
#include "addr.h"
#include "case.h"
#include "control.h"
#include "die.h"
#include "log.h"

/* file could not be used, why, and what that means for forwarded mail:
 * the admin's to mend, so said each time the files are read */
static void unavailable(const char *file, const char *why, const char *forwards)
{
	struct logline l = { STR_INIT };

	log_begin(&l, "srs_unavailable");
	log_kv(&l, "file", file);
	log_kv(&l, "why", why);
	log_kv(&l, "forwards", forwards);
	log_end(&l);
}

static void read_keys(struct srs_conf *c)
{
	struct str path = STR_INIT;
	const char *why;
	int r = srs_keys_load(&c->keys, &path, &why);

	if (r == -1)
		die_nomem();
	if (r == 1)
		c->state = SRSC_ON;
	else
		unavailable(path.s, why, "deferred");
	str_free(&path);
}

int srs_conf_load(struct srs_conf *c)
{
	int r = control_line("srsdomain", &c->domain);

	c->state = SRSC_OFF;
	explicit_bzero(&c->keys, sizeof c->keys);
	if (r < 0)
		return -1;
	if (r == 0 || c->domain.len == 0)
		return 0;
	if (!srs_domain_usable(c->domain.s, c->domain.len)) {
		unavailable("control/srsdomain", "not a domain name", "not_rewritten");
		c->domain.len = 0;
		return 0;
	}
	c->state = SRSC_NOKEY;
	read_keys(c);
	return 0;
}

void srs_conf_free(struct srs_conf *c)
{
	explicit_bzero(&c->keys, sizeof c->keys);
	str_free(&c->domain);
	c->state = SRSC_OFF;
}

int srs_sender(const struct srs_conf *c, const struct route_conf *rc, const struct envelope *env,
               unsigned long day, struct str *out)
{
	/* without the key: a key of zeros says whether a rewrite would be
	 * made (the sender fits a local part), and what it makes is dropped */
	static const struct srs_keys no_key = { 1, { { 0 } } };
	const char *s = env->sender;
	size_t n = env->sender_len, at = addr_at(s, n);
	int r;

	out->len = 0;
	if (c->state == SRSC_OFF || !env->forwarded)
		return SRSS_KEEP;
	/* a bounce has no sender to protect, and must stay a bounce */
	if (n == 0 || (n == 4 && memcmp(s, "#@[]", 4) == 0))
		return SRSS_KEEP;
	/* one of this host's own domains: its SPF record names this host */
	if (at >= n || route_is_local(rc, s, n) || case_eqb(s + at + 1, n - at - 1, c->domain.s, c->domain.len))
		return SRSS_KEEP;
	r = srs_forward(out, s, n, c->domain.s, c->domain.len, c->state == SRSC_ON ? &c->keys : &no_key, day);
	if (r == SRS_NOMEM)
		return SRSS_NOMEM;
	if (r != SRS_OK) {
		out->len = 0;
		return SRSS_KEEP; /* SRS_SKIP: quoted, an address literal, too long */
	}
	if (c->state == SRSC_ON)
		return SRSS_REWRITTEN;
	out->len = 0;
	return SRSS_NOKEY;
}
