/* The mail a report travels in (RFC 8460 5.3; doc/tlsrpt.md, step 4):
 * multipart/report; report-type="tlsrpt", a short text/plain part, and
 * the JSON as application/tlsrpt+json in base64 under the file name
 * ME!DOMAIN!BEGIN!END.json (RFC 8460 5.1).  Lines end in LF, as
 * postern-queue takes them.  Every text put in a field was checked on
 * its way in: ME and DOMAIN are host names, the addresses passed
 * tlsrpt_addr_ok, the organization is printable ASCII. */
#include <stdlib.h>
#include <string.h>
#include "reporter.h"
#include "base64.h"
#include "date822.h"

static int filename(struct str *out, const struct meta *m)
{
	return str_cats(out, m->me) && str_catc(out, '!') && str_cats(out, m->domain) && str_catc(out, '!') &&
	       str_catu(out, (unsigned long long)m->begin) && str_catc(out, '!') &&
	       str_catu(out, (unsigned long long)m->end) && str_cats(out, ".json");
}

static int base64_lines(struct str *out, const struct str *data)
{
	size_t cap = (data->len + 2) / 3 * 4 + 1, n, i;
	char *b = malloc(cap);
	int ok;

	if (!b)
		return 0;
	n = b64_encode((const unsigned char *)data->s, data->len, b, cap);
	ok = n > 0 || data->len == 0;
	for (i = 0; ok && i < n; i += 76)
		ok = str_catb(out, b + i, n - i < 76 ? n - i : 76) && str_catc(out, '\n');
	free(b);
	return ok;
}

int report_message(struct str *out, const struct meta *m, const char *from, const struct str *to, size_t nto,
                   const struct report *r, const struct str *json, time_t now, const char *token)
{
	struct str name = STR_INIT;
	const char *a;
	size_t i;
	int ok;

	out->len = 0;
	if (!filename(&name, m))
		return 0;
	ok = str_cats(out, "From: ") && str_cats(out, from) && str_cats(out, "\nTo: ");
	for (i = 0, a = to->s; ok && i < nto; i++, a += strlen(a) + 1)
		ok = (!i || str_cats(out, ",\n\t")) && str_cats(out, a);
	ok = ok && str_cats(out, "\nSubject: Report Domain: ") && str_cats(out, m->domain) &&
	     str_cats(out, " Submitter: ") && str_cats(out, m->me) && str_cats(out, "\n Report-ID: <") &&
	     str_cats(out, m->report_id) && str_cats(out, ">\nDate: ") && date822_cat(out, now) &&
	     str_cats(out, "\nMessage-ID: <") && str_cats(out, token) && str_cats(out, ".tlsrpt@") &&
	     str_cats(out, m->me) && str_cats(out, ">\nTLS-Report-Domain: ") && str_cats(out, m->domain) &&
	     str_cats(out, "\nTLS-Report-Submitter: ") && str_cats(out, m->me) &&
	     str_cats(out, "\nAuto-Submitted: auto-generated\nMIME-Version: 1.0\n"
	                   "Content-Type: multipart/report; report-type=\"tlsrpt\";\n\tboundary=\"") &&
	     str_cats(out, token) && str_cats(out, "\"\n\nThis is a MIME-encapsulated message.\n\n--") &&
	     str_cats(out, token) &&
	     str_cats(out, "\nContent-Type: text/plain; charset=us-ascii\n\n"
	                   "This is an aggregate TLS report (RFC 8460) from ") &&
	     str_cats(out, m->org) && str_cats(out, "\nfor ") && str_cats(out, m->domain) &&
	     str_cats(out, " on ") && str_cats(out, m->day) && str_cats(out, " (UTC): ") &&
	     str_catu(out, report_sessions(r)) && str_cats(out, " sessions, of which ") &&
	     str_catu(out, report_failures(r)) && str_cats(out, " failed.\nThe report is the attached ") &&
	     str_cat(out, &name) && str_cats(out, ".\n\n--") && str_cats(out, token) &&
	     str_cats(out, "\nContent-Type: application/tlsrpt+json; name=\"") && str_cat(out, &name) &&
	     str_cats(out, "\"\nContent-Disposition: attachment; filename=\"") && str_cat(out, &name) &&
	     str_cats(out, "\"\nContent-Transfer-Encoding: base64\n\n") && base64_lines(out, json) &&
	     str_cats(out, "\n--") && str_cats(out, token) && str_cats(out, "--\n");
	str_free(&name);
	return ok;
}
