/* The report itself, RFC 8460 4: one JSON object, its strings escaped
 * (json_cat_string), whatever bytes the records and policies held. */
#include <string.h>
#include <time.h>
#include "reporter.h"
#include "ascii.h"
#include "fmt.h"

static int cat_u2(struct str *out, unsigned v, size_t digits)
{
	char b[4];
	size_t i;
	for (i = digits; i > 0; i--) {
		b[i - 1] = (char)('0' + v % 10);
		v /= 10;
	}
	return str_catb(out, b, digits);
}

/* RFC 3339: 2016-04-01T23:59:59Z */
static int cat_datetime(struct str *out, time_t t)
{
	struct tm tm;
	if (!gmtime_r(&t, &tm) || tm.tm_year < 0 || tm.tm_year > 8099)
		return 0;
	return cat_u2(out, (unsigned)tm.tm_year + 1900, 4) && str_catc(out, '-') &&
	       cat_u2(out, (unsigned)tm.tm_mon + 1, 2) && str_catc(out, '-') && cat_u2(out, (unsigned)tm.tm_mday, 2) &&
	       str_catc(out, 'T') && cat_u2(out, (unsigned)tm.tm_hour, 2) && str_catc(out, ':') &&
	       cat_u2(out, (unsigned)tm.tm_min, 2) && str_catc(out, ':') && cat_u2(out, (unsigned)tm.tm_sec, 2) &&
	       str_catc(out, 'Z');
}

int meta_day(struct meta *m, const char *day, time_t end)
{
	struct tm tm;
	size_t i, n = 0;
	const char *parts[4] = { m->day, "_", m->domain, m->me };

	for (i = 0; i < 8; i++)
		if (!ascii_digit(day[i]))
			return 0;
	if (day[8])
		return 0;
	memset(&tm, 0, sizeof tm);
	tm.tm_year = (day[0] - '0') * 1000 + (day[1] - '0') * 100 + (day[2] - '0') * 10 + (day[3] - '0') - 1900;
	tm.tm_mon = (day[4] - '0') * 10 + (day[5] - '0') - 1;
	tm.tm_mday = (day[6] - '0') * 10 + (day[7] - '0');
	m->begin = timegm(&tm);
	/* timegm normalizes: 20240231 comes back as March 2nd, and is no day */
	if (m->begin == (time_t)-1 || tm.tm_mday != (day[6] - '0') * 10 + (day[7] - '0') ||
	    tm.tm_mon != (day[4] - '0') * 10 + (day[5] - '0') - 1 || tm.tm_year < 70)
		return 0;
	m->end = end ? end : m->begin + 86399;
	memcpy(m->day, day, 4);
	m->day[4] = '-';
	memcpy(m->day + 5, day + 4, 2);
	m->day[7] = '-';
	memcpy(m->day + 8, day + 6, 2);
	m->day[10] = 0;
	/* YYYY-MM-DD_DOMAIN@ME: a msg-id's id-left "@" id-right, as the
	 * Subject's Report-ID: wants (RFC 8460 5.3) */
	for (i = 0; i < 4; i++) {
		size_t l = strlen(parts[i]);
		if (n + l + 2 > sizeof m->report_id)
			return 0;
		memcpy(m->report_id + n, parts[i], l);
		n += l;
		if (i == 2)
			m->report_id[n++] = '@';
	}
	m->report_id[n] = 0;
	return 1;
}

static int key(struct str *out, const char *k)
{
	return str_catc(out, '"') && str_cats(out, k) && str_cats(out, "\":");
}

static int kv(struct str *out, const char *k, const char *v, size_t n)
{
	return key(out, k) && json_cat_string(out, v, n);
}

static int kvu(struct str *out, const char *k, unsigned long long v)
{
	return key(out, k) && str_catu(out, v);
}

/* the policy-string (the p. file's lines), or the mx: patterns in it */
static int text_lines(struct str *out, const struct str *text, int mx_only)
{
	size_t pos = 0;
	int first = 1;

	if (!str_catc(out, '['))
		return 0;
	while (pos < text->len) {
		const char *nl = memchr(text->s + pos, '\n', text->len - pos);
		size_t end = nl ? (size_t)(nl - text->s) : text->len, a = pos;
		pos = end + 1;
		if (mx_only) {
			if (end - a < 4 || memcmp(text->s + a, "mx: ", 4))
				continue;
			a += 4;
		}
		if ((!first && !str_catc(out, ',')) || !json_cat_string(out, text->s + a, end - a))
			return 0;
		first = 0;
	}
	return str_catc(out, ']');
}

static int nul_list(struct str *out, const struct str *l)
{
	const char *m;

	if (!str_catc(out, '['))
		return 0;
	for (m = l->s; m && m < l->s + l->len; m += strlen(m) + 1)
		if ((m != l->s && !str_catc(out, ',')) || !json_cat_string(out, m, strlen(m)))
			return 0;
	return str_catc(out, ']');
}

static int detail(struct str *out, const struct detail *d)
{
	const char *f[5], *names[5] = { "result-type", "sending-mta-ip", "receiving-mx-hostname", "receiving-ip",
	                               "failure-reason-code" };
	size_t fl[5], i, at = 0;

	for (i = 0; i < 5; i++) { /* the key's fields, NUL-separated, the reason last */
		f[i] = d->key.s + at;
		fl[i] = i < 4 ? strlen(f[i]) : d->key.len - at;
		at += fl[i] + 1;
	}
	if (!str_catc(out, '{') || !kv(out, names[0], f[0], fl[0]))
		return 0;
	for (i = 1; i < 4; i++)
		if (fl[i] && (!str_catc(out, ',') || !kv(out, names[i], f[i], fl[i])))
			return 0;
	if (!str_catc(out, ',') || !kvu(out, "failed-session-count", d->count))
		return 0;
	if (fl[4] && (!str_catc(out, ',') || !kv(out, names[4], f[4], fl[4])))
		return 0;
	return str_catc(out, '}');
}

static int policy(struct str *out, const struct policy *p, const char *domain)
{
	size_t k;

	if (!str_cats(out, "{\"policy\":{") || !kv(out, "policy-type", tlsrpt_types[p->type], strlen(tlsrpt_types[p->type])))
		return 0;
	if (p->type != TLSRPT_NOPOLICY && (!str_catc(out, ',') || !key(out, "policy-string") || !text_lines(out, &p->text, 0)))
		return 0;
	if (!str_catc(out, ',') || !kv(out, "policy-domain", domain, strlen(domain)))
		return 0;
	if (p->type == TLSRPT_STS && (!str_catc(out, ',') || !key(out, "mx-host") || !text_lines(out, &p->text, 1)))
		return 0;
	if (p->type == TLSRPT_TLSA && (!str_catc(out, ',') || !key(out, "mx-host") || !nul_list(out, &p->mx)))
		return 0;
	if (!str_cats(out, "},\"summary\":{") || !kvu(out, "total-successful-session-count", p->ok) ||
	    !str_catc(out, ',') || !kvu(out, "total-failure-session-count", p->failed) ||
	    !str_cats(out, "},\"failure-details\":["))
		return 0;
	for (k = 0; k < p->nd; k++)
		if ((k && !str_catc(out, ',')) || !detail(out, &p->d[k]))
			return 0;
	return str_cats(out, "]}");
}

int report_json(struct str *out, const struct report *r, const struct meta *m)
{
	size_t i;
	int first = 1;

	out->len = 0;
	if (!str_catc(out, '{') || !kv(out, "organization-name", m->org, strlen(m->org)) ||
	    !str_cats(out, ",\"date-range\":{\"start-datetime\":\"") || !cat_datetime(out, m->begin) ||
	    !str_cats(out, "\",\"end-datetime\":\"") || !cat_datetime(out, m->end) || !str_cats(out, "\"},") ||
	    !kv(out, "contact-info", m->contact, strlen(m->contact)) || !str_catc(out, ',') ||
	    !kv(out, "report-id", m->report_id, strlen(m->report_id)) || !str_cats(out, ",\"policies\":["))
		return 0;
	for (i = 0; i < r->np; i++) {
		if (!r->p[i].slot)
			continue; /* no p. file: its lines were skipped */
		if ((!first && !str_catc(out, ',')) || !policy(out, &r->p[i], m->domain))
			return 0;
		first = 0;
	}
	return str_cats(out, "]}\n");
}
