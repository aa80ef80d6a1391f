#include <string.h>
#include "dsn.h"
#include "ascii.h"
#include "date822.h"

/* n digits at s[i..], 1 to max of them */
static size_t digits(const char *s, size_t n, size_t i, size_t max)
{
	size_t k = 0;
	while (i + k < n && ascii_digit(s[i + k]) && k <= max)
		k++;
	return k >= 1 && k <= max ? k : 0;
}

size_t dsn_status(const char *why, size_t n, int expired, char *out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		size_t a, b;
		if (why[i] != '2' && why[i] != '4' && why[i] != '5')
			continue;
		if (i > 0 && (ascii_digit(why[i - 1]) || why[i - 1] == '.'))
			continue;
		if (i + 1 >= n || why[i + 1] != '.')
			continue;
		a = digits(why, n, i + 2, 3);
		if (!a || i + 2 + a >= n || why[i + 2 + a] != '.')
			continue;
		b = digits(why, n, i + 3 + a, 3);
		if (!b)
			continue;
		if (i + 3 + a + b < n && (ascii_digit(why[i + 3 + a + b]) || why[i + 3 + a + b] == '.'))
			continue;
		out[0] = '5';
		memcpy(out + 1, why + i + 1, 2 + a + b);
		out[3 + a + b] = 0;
		return 3 + a + b;
	}
	memcpy(out, expired ? "5.4.7" : "5.0.0", 6);
	return 5;
}

size_t dsn_header_len(const char *msg, size_t n, size_t max)
{
	size_t pos = 0, last = 0;

	while (pos < n && pos < max) {
		const char *nl = memchr(msg + pos, '\n', n - pos);
		size_t end;
		if (!nl)
			return last; /* a header section without a body: only whole lines */
		end = (size_t)(nl - msg) + 1;
		if (end > max)
			break;
		if (end - pos == 1)
			return end; /* the blank line */
		last = end;
		pos = end;
	}
	return last;
}

/* Printable ASCII only: a reason can hold anything a remote server said. */
static int cat_clean(struct str *out, const char *s, size_t n, size_t max)
{
	size_t i;
	if (n > max)
		n = max;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!str_catc(out, (c >= 0x20 && c < 0x7f) ? (char)c : '?'))
			return 0;
	}
	return 1;
}

/* Addresses keep their bytes (UTF-8 included) but never a line end. */
static int cat_addr(struct str *out, const char *s, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!str_catc(out, (c < 0x20 || c == 0x7f) ? '?' : (char)c))
			return 0;
	}
	return 1;
}

#define WHY_MAX 900 /* bytes of a reason quoted, in each of the two parts */

/* At most what recipient f adds to the report: its address and reason in
 * both parts, and the fixed text around them. */
static size_t fail_bytes(const struct dsn_fail *f)
{
	return 2 * f->len + 2 * (f->why_len < WHY_MAX ? f->why_len : WHY_MAX) + 200;
}

/* How many recipients to detail when used bytes are written before the
 * first: as many as keep the whole report within DSN_MAX, at least one.
 * After them come at most 600 bytes of fixed text, the id four times
 * (the boundary holds it), control/me once and the quoted headers. */
static size_t shown(const struct dsn *d, size_t used)
{
	size_t rest = used + 600 + 4 * strlen(d->qid) + strlen(d->me) + d->hlen, room, k;

	room = rest < DSN_MAX ? DSN_MAX - rest : 0;
	for (k = 0; k < d->nf && fail_bytes(d->f + k) <= room; k++)
		room -= fail_bytes(d->f + k);
	return k || !d->nf ? k : 1;
}

int dsn_build(struct str *out, const struct dsn *d)
{
	struct str b = STR_INIT;
	size_t i, n;
	int ok = 0;
	char st[16];

	if (!str_cats(&b, "postern-dsn-") || !str_cats(&b, d->qid))
		goto done;
	out->len = 0;
	if (!str_cats(out, "From: MAILER-DAEMON@") || !str_cats(out, d->me) ||
	    !str_cats(out, "\nTo: ") || !cat_addr(out, d->to, d->to_len) ||
	    !str_cats(out, d->delayed ? "\nSubject: Delayed Mail (still being retried)\nDate: " :
	                                "\nSubject: Undelivered Mail Returned to Sender\nDate: ") ||
	    !date822_cat(out, (time_t)d->now) || !str_cats(out, "\nMessage-ID: <") ||
	    !str_cats(out, d->qid) || !str_cats(out, ".dsn@") || !str_cats(out, d->me) ||
	    !str_cats(out, ">\nAuto-Submitted: auto-replied\nMIME-Version: 1.0\n"
	                   "Content-Type: multipart/report; report-type=delivery-status;\n"
	                   "\tboundary=\"") ||
	    !str_cat(out, &b) || !str_cats(out, "\"\n\nThis is a MIME-encapsulated message.\n\n--") ||
	    !str_cat(out, &b) ||
	    !str_cats(out, "\nContent-Type: text/plain; charset=us-ascii\n\n"
	                   "This is the mail system at host ") ||
	    !str_cats(out, d->me) ||
	    !str_cats(out, d->delayed ?
	                   ".\n\nThis is a warning only: your message has not yet been delivered\n"
	                   "to the recipients below. I will keep trying; you need not send it\n"
	                   "again. The last errors follow.\n\n" :
	                   ".\n\nI'm sorry to have to tell you that your message could not be\n"
	                   "delivered to one or more recipients. The reasons follow;\n"
	                   "I have given up on these addresses.\n\n"))
		goto done;
	n = shown(d, out->len);
	for (i = 0; i < n; i++) {
		const struct dsn_fail *f = d->f + i;
		if (!str_catc(out, '<') || !cat_addr(out, f->addr, f->len) || !str_cats(out, ">:\n    ") ||
		    !cat_clean(out, f->why, f->why_len, WHY_MAX) ||
		    (f->expired && !str_cats(out, "\n    Giving up: the message was too long in the queue.")) ||
		    !str_cats(out, "\n\n"))
			goto done;
	}
	/* A report on every recipient of a large mailing could be refused by
	 * postern-queue for its size, and then be tried again for ever. */
	if (n < d->nf && (!str_cats(out, "... and ") || !str_catu(out, d->nf - n) ||
	                  !str_cats(out, " more recipients, not listed so that this report stays small\n"
	                                 "enough to be delivered.\n\n")))
		goto done;
	if (!str_cats(out, "--") || !str_cat(out, &b) ||
	    !str_cats(out, "\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; ") ||
	    !str_cats(out, d->me) || !str_cats(out, "\nX-Postern-Queue-ID: ") || !str_cats(out, d->qid) ||
	    !str_cats(out, "\nArrival-Date: ") || !date822_cat(out, (time_t)d->arrival) ||
	    !str_catc(out, '\n'))
		goto done;
	for (i = 0; i < n; i++) {
		const struct dsn_fail *f = d->f + i;
		size_t sl = dsn_status(f->why, f->why_len, f->expired, st);
		if (d->delayed)
			st[0] = '4'; /* still trying: a persistent transient failure */
		if (!str_cats(out, "\nFinal-Recipient: rfc822; ") || !cat_addr(out, f->addr, f->len) ||
		    !str_cats(out, d->delayed ? "\nAction: delayed\nStatus: " : "\nAction: failed\nStatus: ") ||
		    !str_catb(out, st, sl) ||
		    !str_catc(out, '\n'))
			goto done;
		if (f->why_len && (!str_cats(out, "Diagnostic-Code: X-Postern; ") ||
		                   !cat_clean(out, f->why, f->why_len, WHY_MAX) || !str_catc(out, '\n')))
			goto done;
	}
	if (!str_cats(out, "\n--") || !str_cat(out, &b) ||
	    !str_cats(out, "\nContent-Type: text/rfc822-headers\n\n") ||
	    !str_catb(out, d->headers, d->hlen))
		goto done;
	if (d->hlen && d->headers[d->hlen - 1] != '\n' && !str_catc(out, '\n'))
		goto done;
	if (!str_cats(out, "\n--") || !str_cat(out, &b) || !str_cats(out, "--\n"))
		goto done;
	ok = 1;
done:
	str_free(&b);
	return ok;
}
