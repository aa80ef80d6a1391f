/* DMARC (RFC 7489, as RFC 9989 revises it), with control/dmarc: the
 * From domain's policy found by the DNS Tree Walk, its verdict on the
 * DKIM results and postern-smtpd's SPF check of MAIL FROM, the spf and
 * dmarc clauses of the Authentication-Results field, and, at level 2,
 * the refusal of a message its domain asks to reject.  The walk's names
 * are asked with the keys (txt.c), after them the names the alignment
 * of other domains needs; src/lib/dmarc.c does the reading. */
#include <string.h>
#include "verify.h"
#include "die.h"
#include "dmarc.h"
#include "log.h"
#include "qqfilter.h"

#define NAMES_MAX (TXT_SLOTS - DKIMV_SIGS_MAX - 1)
#define FROM_SLOT (TXT_SLOTS - 1) /* the From domain itself: does it exist? (np=) */

static char from[DMARC_NAME_MAX + 1];
static int from_state;        /* 0 not asked, 1 a From domain, -1 none to be had */
static char names[NAMES_MAX][DMARC_NAME_MAX + 1];
static size_t nnames, nasked;
static struct dmarc_step steps[NAMES_MAX];
static int stepped[NAMES_MAX];

/* The policy record of a walk's name: TXT at _dmarc.NAME. */
static void ask(size_t i)
{
	struct str q = STR_INIT;

	if (!str_cats(&q, "_dmarc.") || !str_cats(&q, names[i]) || !str_catz(&q))
		die(QF_NOMEM, "fatal: out of memory");
	txt_ask(DKIMV_SIGS_MAX + i, q.s);
	str_free(&q);
}

void policy_begin(const struct dkim_field *f, size_t n, int readable)
{
	struct str dom = STR_INIT;
	size_t i;

	from_state = -1;
	if (readable && dkim_from_domain(f, n, &dom) == 0 && dom.len <= DMARC_NAME_MAX) {
		memcpy(from, dom.s, dom.len);
		from[dom.len] = 0;
		from_state = 1;
		/* the walk of the From domain is needed whatever the DKIM
		 * results: it goes out with the keys */
		nnames = dmarc_walk(from, names);
		for (i = 0; i < nnames; i++)
			ask(i);
		nasked = nnames;
		/* np= is for a From domain that does not exist: NXDOMAIN
		 * (RFC 8020) to any question about the name says so */
		txt_ask(FROM_SLOT, from);
	}
	str_free(&dom);
}

/* A name's step, from its TXT records: one DMARC record, or none (no
 * record, none that reads as DMARC, or several: RFC 9989 4.10.1 step 2
 * discards them all); NULL when the name was not asked. */
static const struct dmarc_step *lookup(void *ctx, const char *name)
{
	size_t i, k, found = 0;
	(void)ctx;

	for (i = 0; i < nnames && strcmp(names[i], name); i++)
		;
	if (i == nnames)
		return 0;
	if (!stepped[i]) {
		const struct txt_answer *a = txt_answer(DKIMV_SIGS_MAX + i);
		struct dmarc_record r;
		steps[i].a = DMARC_A_NONE;
		if (a->status == TXT_FAILED || a->status == TXT_PENDING)
			steps[i].a = DMARC_A_TEMPFAIL;
		for (k = 0; a->status == TXT_FOUND && k < a->n; k++)
			if (dmarc_record_parse(a->txt[k].s, a->txt[k].len, &r) == 0 && found++ == 0)
				steps[i].r = r;
		if (found == 1)
			steps[i].a = DMARC_A_RECORD;
		stepped[i] = 1;
	}
	return &steps[i];
}

static void clause(struct str *field, const char *text, size_t n)
{
	/* the field ends with its LF: the clause goes before it */
	if (field->len && field->s[field->len - 1] == '\n')
		field->len--;
	if (!str_cats(field, ";\n\t") || !str_catb(field, text, n) || !str_catc(field, '\n'))
		die(QF_NOMEM, "fatal: out of memory");
}

void policy_spf_clause(struct str *field, const struct spf_in *spf)
{
	struct str c = STR_INIT;

	if (!spf->result)
		return;
	if (!str_cats(&c, "spf=") || !str_cats(&c, spf->result) ||
	    !str_cats(&c, spf->helo ? " smtp.helo=" : " smtp.mailfrom=") || !str_cats(&c, spf->domain))
		die(QF_NOMEM, "fatal: out of memory");
	clause(field, c.s, c.len);
	str_free(&c);
}

int policy_finish(const char *const *dkim_pass, size_t npass, const struct spf_in *spf, int level, struct str *field)
{
	struct dmarc_input in;
	struct dmarc_verdict v;
	struct logline l = { STR_INIT };
	struct str c = STR_INIT;
	const char *dis = "none";
	size_t i;
	int refuse = 0;

	if (from_state != 1) {
		static const char none[] = "dmarc=permerror reason=\"no single from domain\"";
		clause(field, none, sizeof none - 1);
		log_begin(&l, "dkim dmarc");
		log_kv(&l, "result", "permerror");
		log_kv(&l, "why", "no_single_from_domain");
		log_end(&l);
		return 0;
	}
	in.from = from;
	in.dkim_pass = dkim_pass;
	in.ndkim = npass;
	in.spf_domain = spf->result ? spf->domain : 0;
	in.spf_pass = spf->result && !strcmp(spf->result, "pass");
	in.from_nxdomain = txt_answer(FROM_SLOT)->status == TXT_NONE && txt_answer(FROM_SLOT)->nxdomain;
	/* the other domains' walks, for relaxed alignment */
	dmarc_names(&in, names, NAMES_MAX, &nnames);
	for (i = nasked; i < nnames; i++)
		ask(i);
	if (nnames > nasked)
		txt_wait();
	nasked = nnames;
	dmarc_evaluate(&in, lookup, 0, &v);

	log_begin(&l, "dkim dmarc");
	log_kv(&l, "result", v.result);
	log_kv(&l, "from", from);
	if (v.policy_domain[0]) {
		log_kv(&l, "policy", dmarc_policy_name(v.policy));
		if (!strcmp(v.result, "fail") && v.policy == DMARC_P_REJECT && level >= 2) {
			/* a verdict that leans on SPF's silence is no verdict: a
			 * domain whose mail passes only by SPF would be refused */
			if (v.testing)
				log_kv(&l, "not_enforced", "testing");
			else if (!spf->result)
				log_kv(&l, "not_enforced", "spf_not_checked");
			else {
				dis = "reject";
				refuse = 1;
			}
		}
		log_kv(&l, "dis", dis);
	}
	if (v.aligned)
		log_kv(&l, "aligned", v.aligned);
	log_end(&l);
	if (dmarc_ar_clause(&c, &v, from, dis) == -1)
		die(QF_NOMEM, "fatal: out of memory");
	clause(field, c.s, c.len);
	str_free(&c);
	return refuse;
}
