/* One domain's day from its record lines: a policy for each (TYPE, HASH),
 * its sessions counted, its failures grouped by (RESULT, SENDING_IP,
 * MX_HOST, MX_IP, REASON), at most DETAILS_MAX groups (doc/tlsrpt.md,
 * "The report", step 3).  Lines that do not parse, or whose HASH has no
 * p. file, are skipped and counted. */
#include <stdlib.h>
#include <string.h>
#include "reporter.h"
#include "die.h"
#include "fmt.h"
#include "fnv.h"

#define SLOTS 2048 /* a power of two, over twice DETAILS_MAX */

void report_init(struct report *r, policy_loader load, void *ctx)
{
	memset(r, 0, sizeof *r);
	r->load = load;
	r->load_ctx = ctx;
}

void report_free(struct report *r)
{
	size_t i, k;

	for (i = 0; i < r->np; i++) {
		struct policy *p = &r->p[i];
		for (k = 0; k < p->nd; k++)
			str_free(&p->d[k].key);
		free(p->d);
		free(p->slot);
		str_free(&p->text);
		str_free(&p->mx);
	}
	r->np = 0;
}

int policy_text_ok(const char *text, size_t n, const char *hash)
{
	char h[16];
	size_t i, lines = 0, len = 0;

	if (n == 0 || n > P_FILE_MAX || text[n - 1] != '\n')
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c == '\n') {
			if (len == 0 || ++lines > P_LINES_MAX)
				return 0;
			len = 0;
		} else if (c < 0x20 || c > 0x7e || ++len > P_LINE_MAX)
			return 0;
	}
	fmt_hex64(h, fnv1a64(text, n));
	return memcmp(h, hash, 16) == 0;
}

/* the policy of (type, hash): made and its p. file loaded the first time;
 * 0 when it has none, or there are POLICIES_MAX already (*cut) */
static struct policy *policy_of(struct report *r, enum tlsrpt_type type, const char *hash, int *cut)
{
	struct policy *p;
	size_t i;

	*cut = 0;
	for (i = 0; i < r->np; i++)
		if (r->p[i].type == type && !strcmp(r->p[i].hash, hash))
			return r->p[i].slot ? &r->p[i] : 0;
	if (r->np == POLICIES_MAX) {
		*cut = 1;
		return 0;
	}
	p = &r->p[r->np++];
	memset(p, 0, sizeof *p);
	p->type = type;
	memcpy(p->hash, hash, 17);
	/* slot stays 0 for a policy without its p. file: its lines are skipped */
	if (type != TLSRPT_NOPOLICY &&
	    (r->load(r->load_ctx, hash, &p->text) != 1 || !policy_text_ok(p->text.s, p->text.len, hash)))
		return 0;
	if (!(p->slot = calloc(SLOTS, sizeof *p->slot)))
		die_nomem();
	return p;
}

static void add_mx(struct policy *p, const char *host)
{
	const char *m;

	if (!host[0] || p->nmx == MXHOSTS_MAX)
		return;
	for (m = p->mx.s; m && m < p->mx.s + p->mx.len; m += strlen(m) + 1)
		if (!strcmp(m, host))
			return;
	if (!str_cats(&p->mx, host) || !str_catz(&p->mx))
		die_nomem();
	p->nmx++;
}

static void add_failure(struct policy *p, const struct tlsrpt_rec *rec)
{
	struct str key = STR_INIT;
	size_t s;

	if (!str_cats(&key, tlsrpt_results[rec->result]) || !str_catz(&key) || !str_cats(&key, rec->sending_ip) ||
	    !str_catz(&key) || !str_cats(&key, rec->mx_host) || !str_catz(&key) || !str_cats(&key, rec->mx_ip) ||
	    !str_catz(&key) || !str_catb(&key, rec->reason, rec->reason_len))
		die_nomem();
	for (s = fnv1a64(key.s, key.len) & (SLOTS - 1); p->slot[s]; s = (s + 1) & (SLOTS - 1)) {
		struct detail *d = &p->d[p->slot[s] - 1];
		if (d->key.len == key.len && !memcmp(d->key.s, key.s, key.len)) {
			d->count++;
			str_free(&key);
			return;
		}
	}
	if (p->nd == DETAILS_MAX) {
		str_free(&key); /* counted in the summary only */
		return;
	}
	if (!p->d && !(p->d = calloc(DETAILS_MAX, sizeof *p->d)))
		die_nomem();
	p->d[p->nd].key = key;
	p->d[p->nd].count = 1;
	p->slot[s] = ++p->nd;
}

void report_line(struct report *r, const char *line, size_t n)
{
	struct tlsrpt_rec rec;
	struct policy *p;
	const char *why;
	int cut;

	r->lines++;
	if (tlsrpt_rec_parse(line, n, &rec, &why) == -1) {
		r->skipped++;
		if (!r->why)
			r->why = why;
		return;
	}
	if (!(p = policy_of(r, rec.type, rec.hash, &cut))) {
		if (cut)
			r->cut++;
		else {
			r->skipped++;
			if (!r->why)
				r->why = "no policy file";
		}
		return;
	}
	if (rec.type == TLSRPT_TLSA)
		add_mx(p, rec.mx_host);
	if (rec.result == 0) {
		p->ok++;
		return;
	}
	p->failed++;
	add_failure(p, &rec);
}

unsigned long long report_sessions(const struct report *r)
{
	unsigned long long n = 0;
	size_t i;
	for (i = 0; i < r->np; i++)
		n += r->p[i].ok + r->p[i].failed;
	return n;
}

unsigned long long report_failures(const struct report *r)
{
	unsigned long long n = 0;
	size_t i;
	for (i = 0; i < r->np; i++)
		n += r->p[i].failed;
	return n;
}
