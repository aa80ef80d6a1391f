/* The envelope of a forwarded copy (src/postern-local/forward.c,
 * forward_envelope): the DSN request carried on as RFC 3461 5.2.7 has an
 * alias pass it (doc/dsn.md, "Forwards"), and always an envelope
 * postern-queue's parser takes. */
#include <string.h>
#include "check.h"
#include "envelope.h"
#include "esmtpdsn.h"
#include "postern-local/copy.c"
#include "postern-local/dotfile.c"
#include "postern-local/forward.c"

#define SENDER "s@y.example"

static struct dotfile two; /* two forwards and a Maildir */
static struct dotfile one; /* one forward */

/* forward_envelope's bytes, NULs shown as '|', for the dot file d */
static int env_is(const struct dotfile *d, int single, const char *rcpt, const char *mp, const char *rp,
                  const char *want)
{
	struct str e = STR_INIT;
	size_t i;
	int ok = forward_envelope(&e, d, d->n, single, SENDER, rcpt, mp, rp);

	for (i = 0; ok && i < e.len; i++)
		if (e.s[i] == 0)
			e.s[i] = '|';
	ok = ok && e.len == strlen(want) && memcmp(e.s, want, e.len) == 0;
	str_free(&e);
	return ok;
}

/* The envelope postern-queue is given parses, is marked forwarded, and
 * each copy's NOTIFY is want (0: none), ORCPT present or not. */
static int env_parses(const struct dotfile *d, int single, const char *rcpt, const char *mp, const char *rp,
                      unsigned want, int orcpt)
{
	struct str e = STR_INIT;
	struct envelope env;
	const char *o;
	size_t i;
	int ok = forward_envelope(&e, d, d->n, single, SENDER, rcpt, mp, rp) &&
	         envelope_parse(&env, e.s, e.len) == ENV_OK;

	if (!ok) {
		str_free(&e);
		return 0;
	}
	ok = env.forwarded && env.nrcpt >= 1;
	for (i = 0; ok && i < env.nrcpt; i++)
		ok = (env.notify ? env.notify[i] : 0) == want && (envelope_orcpt(&env, i, &o) != 0) == orcpt;
	envelope_free(&env);
	str_free(&e);
	return ok;
}

int main(void)
{
	static const char *notifies[] = { "", "NOTIFY=NEVER", "NOTIFY=SUCCESS", "NOTIFY=FAILURE", "NOTIFY=DELAY",
	                                  "NOTIFY=SUCCESS,FAILURE", "NOTIFY=SUCCESS,DELAY", "NOTIFY=FAILURE,DELAY",
	                                  "NOTIFY=SUCCESS,FAILURE,DELAY" };
	char longrcpt[400];
	size_t k, line;
	int all = 1;

	if (dotfile_parse(&two, "&a@x.example\nb@x.example\n./Maildir/\n", 36, &line) != DOT_OK ||
	    dotfile_parse(&one, "&a@x.example\n", 13, &line) != DOT_OK)
		return 1;

	CHECK(env_is(&one, 1, "r@here.example", "", "", "F" SENDER "|S|Ta@x.example||"),
	      "no DSN: the sender, S and the address, as plain mail");
	CHECK(env_is(&one, 1, "r@here.example", "", "ORCPT=rfc822;o", "F" SENDER "|S|Orfc822;o|Ta@x.example||"),
	      "an ORCPT alone goes on as given");
	CHECK(env_is(&one, 1, "r@here.example", "RET=HDRS ENVID=id+2B1", "NOTIFY=SUCCESS,DELAY ORCPT=rfc822;o+40x",
	             "F" SENDER "|RHDRS|Eid+2B1|S|NSUCCESS,DELAY|Orfc822;o+40x|Ta@x.example||"),
	      "one forward alone: RET, ENVID, NOTIFY and ORCPT as given, in the envelope's order");
	CHECK(env_is(&two, 0, "r@here.example", "ENVID=e", "NOTIFY=SUCCESS,FAILURE",
	             "F" SENDER "|Ee|S|NFAILURE|Orfc822;r@here.example|Ta@x.example|NFAILURE|Orfc822;r@here.example|"
	             "Tb@x.example||"),
	      "an expansion: each copy without SUCCESS, with the ORCPT; the Maildir line is no copy");
	CHECK(env_is(&two, 0, "r@here.example", "", "NOTIFY=SUCCESS ORCPT=x-local;r",
	             "F" SENDER "|S|NNEVER|Ox-local;r|Ta@x.example|NNEVER|Ox-local;r|Tb@x.example||"),
	      "an expansion of NOTIFY=SUCCESS alone: NEVER; an ORCPT of another type kept");
	CHECK(env_is(&one, 1, "a+b=c\x01@here.example", "", "NOTIFY=FAILURE",
	             "F" SENDER "|S|NFAILURE|Orfc822;a+2Bb+3Dc+01@here.example|Ta@x.example||"),
	      "the ORCPT made from the address is xtext");
	memset(longrcpt, '+', sizeof longrcpt - 1);
	memcpy(longrcpt + sizeof longrcpt - 11, "@h.example", 11);
	CHECK(env_is(&one, 1, longrcpt, "", "NOTIFY=FAILURE", "F" SENDER "|S|NFAILURE|Ta@x.example||"),
	      "an address whose xtext would pass 500 bytes: no ORCPT made");
	CHECK(env_is(&one, 1, "j\xc3\xb6rg@h\xc3\xa9.example", "", "NOTIFY=FAILURE", "F" SENDER "|S|NFAILURE|Ta@x.example||"),
	      "an address beyond ASCII: no rfc822 ORCPT made for it");
	{
		struct str e = STR_INIT;
		CHECK(forward_envelope(&e, &two, 1, 0, SENDER, "r@h.example", "", "") && e.len == strlen("F" SENDER) + 1 +
		      2 + strlen("Ta@x.example") + 2,
		      "only the lines before upto (a program's 99 stops the rest)");
		str_free(&e);
	}
	for (k = 0; k < sizeof notifies / sizeof *notifies; k++) {
		unsigned n = k ? dsn_notify_parse(notifies[k] + 7, strlen(notifies[k] + 7)) : 0;
		unsigned expanded = !(n & DSN_NOTIFY_SUCCESS) ? n : n == DSN_NOTIFY_SUCCESS ? DSN_NOTIFY_NEVER :
		                    n & ~(unsigned)DSN_NOTIFY_SUCCESS;
		all = all && env_parses(&one, 1, "r@h.example", "RET=FULL", notifies[k], n, k != 0) &&
		      env_parses(&two, 0, "r@h.example", "", notifies[k], expanded, k != 0) &&
		      env_parses(&two, 0, longrcpt, "ENVID=x", notifies[k], expanded, 0);
	}
	CHECK(all, "every NOTIFY, alone or expanded: an envelope postern-queue takes, SUCCESS never in an expansion's copies");
	free(one.e);
	free(two.e);
	return check_done();
}
