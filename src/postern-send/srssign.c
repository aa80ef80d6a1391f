#include <string.h>
#include "srssign.h"
#include "srsask.h"
#include "srsfiles.h"
#include "addr.h"
#include "case.h"
#include "control.h"
#include "die.h"
#include "log.h"

int srs_conf_load(struct srs_conf *c)
{
	int r = control_line("srsdomain", &c->domain);

	c->state = SRSC_OFF;
	c->sign = srs_ask_forward;
	c->failing = 0;
	c->quiet_until = 0;
	c->last_at = 0;
	c->last_sender.len = c->last_srs.len = 0;
	if (r < 0)
		return -1;
	if (r == 0 || c->domain.len == 0)
		return 0;
	if (!srs_domain_usable(c->domain.s, c->domain.len)) {
		/* the admin's to mend, so said each time the file is read */
		struct logline l = { STR_INIT };
		log_begin(&l, "srs_unavailable");
		log_kv(&l, "file", "control/srsdomain");
		log_kv(&l, "why", "not a domain name");
		log_kv(&l, "forwards", "not_rewritten");
		log_end(&l);
		c->domain.len = 0;
		return 0;
	}
	c->state = SRSC_ON;
	return 0;
}

void srs_conf_free(struct srs_conf *c)
{
	str_free(&c->domain);
	str_free(&c->last_sender);
	str_free(&c->last_srs);
	c->last_at = 0;
	c->state = SRSC_OFF;
}

/* postern-srs did not sign, for why: once an episode in the log */
static void failed(struct srs_conf *c, const struct str *why, time_t now)
{
	struct logline l = { STR_INIT };

	c->quiet_until = now + SRS_ASK_PAUSE;
	if (c->failing)
		return;
	c->failing = 1;
	log_begin(&l, "srs_unavailable");
	log_kv(&l, "service", "postern-srs");
	if (why->len)
		log_kvb(&l, "why", why->s, why->len);
	else
		log_kv(&l, "why", "unknown");
	log_kv(&l, "forwards", "deferred");
	log_end(&l);
}

int srs_sender(struct srs_conf *c, const struct route_conf *rc, const struct envelope *env, time_t now,
               struct str *out)
{
	/* a key of zeros says whether a rewrite would be made (the sender
	 * fits a local part) before postern-srs is asked for one */
	static const struct srs_keys no_key = { 1, { { 0 } } };
	const char *s = env->sender;
	size_t n = env->sender_len, at = addr_at(s, n);
	struct str why = STR_INIT;
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
	r = srs_forward(out, s, n, c->domain.s, c->domain.len, &no_key, 0);
	out->len = 0;
	if (r == SRS_NOMEM)
		return SRSS_NOMEM;
	if (r != SRS_OK)
		return SRSS_KEEP; /* SRS_SKIP: quoted, an address literal, too long */
	if (c->last_at && now >= c->last_at && now - c->last_at < SRS_KEEP_SIGNED && c->last_sender.len == n &&
	    memcmp(c->last_sender.s, s, n) == 0)
		return str_copyb(out, c->last_srs.s, c->last_srs.len) ? SRSS_REWRITTEN : SRSS_NOMEM;
	if (now < c->quiet_until && c->quiet_until - now <= SRS_ASK_PAUSE)
		return SRSS_NOKEY;
	r = c->sign(s, n, c->domain.s, c->domain.len, out, &why);
	if (r == SRS_UNAVAILABLE)
		failed(c, &why, now);
	str_free(&why);
	if (r == SRS_NOMEM)
		return SRSS_NOMEM;
	if (r == SRS_UNAVAILABLE || (r == SRS_OK && out->len == 0)) {
		out->len = 0;
		return SRSS_NOKEY;
	}
	if (c->failing) {
		struct logline l = { STR_INIT };
		c->failing = 0;
		log_begin(&l, "srs_available");
		log_kv(&l, "service", "postern-srs");
		log_end(&l);
	}
	c->quiet_until = 0;
	if (r != SRS_OK) {
		out->len = 0;
		return SRSS_KEEP; /* postern-srs's S: it judged as srs_forward does above */
	}
	if (!str_copyb(&c->last_sender, s, n) || !str_copyb(&c->last_srs, out->s, out->len))
		return SRSS_NOMEM;
	c->last_at = now;
	return SRSS_REWRITTEN;
}
