#include <string.h>
#include "dsn.h"
#include "ascii.h"
#include "date822.h"
#include "esmtpdsn.h"

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

int dsn_cat_xtext(struct str *out, const char *s, size_t n)
{
	struct str dec = STR_INIT;
	size_t i;
	int ok;

	if (!xtext_decode(&dec, s, n)) {
		str_free(&dec);
		return 0;
	}
	for (i = 0; i < dec.len && dec.s[i] >= 0x20 && dec.s[i] < 0x7f; i++) {}
	/* cat_clean: what was checked as xtext is printable already, but a
	 * report's header line must never break, whoever built d */
	ok = i == dec.len ? str_cat(out, &dec) : cat_clean(out, s, n, n);
	str_free(&dec);
	return ok;
}

#define WHY_MAX 900 /* bytes of a reason quoted, in each of the two parts */
/* At most the text of a report that does not depend on its recipients
 * and follows the first of them: the rest of the first part, the
 * delivery-status part's fields, the part boundaries and headers (the
 * qid, control/me, ENVID and the returned headers counted apart). */
#define FIXED_MAX 1200

/* At most what recipient r adds to the report: its address and reason
 * in both parts, ORCPT, and the fixed text around them. */
static size_t rcpt_bytes(const struct dsn_rcpt *r)
{
	return 2 * r->len + 2 * (r->why_len < WHY_MAX ? r->why_len : WHY_MAX) + r->orcpt_len + 300;
}

/* How many recipients to detail when used bytes are written before the
 * first: as many as keep the whole report within DSN_MAX, at least one.
 * After them comes at most FIXED_MAX bytes of fixed text, the id four
 * times (the boundary holds it), control/me once, ENVID and what is
 * returned of the message. */
static size_t shown(const struct dsn *d, size_t used)
{
	size_t rest = used + FIXED_MAX + 4 * strlen(d->qid) + strlen(d->me) + d->envid_len + d->hlen, room, k;

	room = rest < DSN_MAX ? DSN_MAX - rest : 0;
	for (k = 0; k < d->nr && rcpt_bytes(d->r + k) <= room; k++)
		room -= rcpt_bytes(d->r + k);
	return k || !d->nr ? k : 1;
}

static int any_failed(const struct dsn *d)
{
	size_t i;
	for (i = 0; i < d->nr; i++)
		if (d->r[i].action == DSN_FAILED)
			return 1;
	return 0;
}

/* Whether what the report returns has 8-bit bytes: then it and the
 * multipart holding it say 8bit (RFC 2045 6.4), as the original may
 * have been sent. */
static int eight_bit(const struct dsn *d)
{
	size_t i;
	for (i = 0; i < d->hlen; i++)
		if ((unsigned char)d->headers[i] >= 0x80)
			return 1;
	return 0;
}

#define SUCCESS_TEXT "Your message was delivered to the recipients below, as you asked to be\ntold.\n\n"

/* The header and the start of the first part, up to the list. */
static int cat_head(struct str *out, const struct dsn *d, const struct str *b)
{
	int failed = any_failed(d);
	const char *subject = d->delayed ? "Delayed Mail (still being retried)" :
	                      failed ? "Undelivered Mail Returned to Sender" : "Successful Mail Delivery Report";
	const char *intro = d->delayed ?
	                    ".\n\nThis is a warning only: your message has not yet been delivered\n"
	                    "to the recipients below. I will keep trying; you need not send it\n"
	                    "again. The last errors follow.\n\n" :
	                    failed ?
	                    ".\n\nI'm sorry to have to tell you that your message could not be\n"
	                    "delivered to one or more recipients. The reasons follow;\n"
	                    "I have given up on these addresses.\n\n" :
	                    ".\n\n" SUCCESS_TEXT;

	return str_cats(out, "From: MAILER-DAEMON@") && str_cats(out, d->me) &&
	       str_cats(out, "\nTo: ") && cat_addr(out, d->to, d->to_len) &&
	       str_cats(out, "\nSubject: ") && str_cats(out, subject) && str_cats(out, "\nDate: ") &&
	       date822_cat(out, (time_t)d->now) && str_cats(out, "\nMessage-ID: <") &&
	       str_cats(out, d->qid) && str_cats(out, ".dsn@") && str_cats(out, d->me) &&
	       str_cats(out, ">\nAuto-Submitted: auto-replied\nMIME-Version: 1.0\n") &&
	       (!eight_bit(d) || str_cats(out, "Content-Transfer-Encoding: 8bit\n")) &&
	       str_cats(out, "Content-Type: multipart/report; report-type=delivery-status;\n"
	                     "\tboundary=\"") &&
	       str_cat(out, b) && str_cats(out, "\"\n\nThis is a MIME-encapsulated message.\n\n--") &&
	       str_cat(out, b) &&
	       str_cats(out, "\nContent-Type: text/plain; charset=us-ascii\n\n"
	                     "This is the mail system at host ") &&
	       str_cats(out, d->me) && str_cats(out, intro);
}

/* Recipient r in the first part.  A success that follows a failure comes
 * under a line of its own (*succ says whether it has been written). */
static int cat_explained(struct str *out, const struct dsn *d, const struct dsn_rcpt *r, int *succ)
{
	int failure = d->delayed || r->action == DSN_FAILED;
	const char *what = failure ? "" : r->action == DSN_DELIVERED ? "delivered" :
	                   r->action == DSN_EXPANDED ?
	                   "expanded: sent on to more than one destination; a failure or a delay\n"
	                   "    there is reported on its own, if you asked to be told of it" :
	                   "relayed to a server that does not report on its deliveries, so no\n"
	                   "    more notice of it will come from there";

	if (!failure && !*succ) {
		*succ = 1;
		if (any_failed(d) && !str_cats(out, SUCCESS_TEXT))
			return 0;
	}
	return str_catc(out, '<') && cat_addr(out, r->addr, r->len) && str_cats(out, ">:\n    ") &&
	       str_cats(out, what) && (!*what || !r->why_len || str_cats(out, ":\n    ")) &&
	       cat_clean(out, r->why, r->why_len, WHY_MAX) &&
	       (!(failure && r->expired) || str_cats(out, "\n    Giving up: the message was too long in the queue.")) &&
	       str_cats(out, "\n\n");
}

/* Recipient r in the delivery-status part (RFC 3464 2.3). */
static int cat_status(struct str *out, const struct dsn *d, const struct dsn_rcpt *r)
{
	static const char *const action[DSN_ACTIONS] = { "failed", "delivered", "relayed", "expanded" };
	char st[16];
	size_t sl;

	if (d->delayed || r->action == DSN_FAILED) {
		sl = dsn_status(r->why, r->why_len, r->expired, st);
		if (d->delayed)
			st[0] = '4'; /* still trying: a persistent transient failure */
	} else {
		memcpy(st, "2.0.0", 6);
		sl = 5;
	}
	if (!str_catc(out, '\n'))
		return 0;
	if (r->orcpt_len) {
		const char *semi = memchr(r->orcpt, ';', r->orcpt_len);
		size_t tl = semi ? (size_t)(semi - r->orcpt) : 0;
		if (semi && (!str_cats(out, "Original-Recipient: ") || !cat_clean(out, r->orcpt, tl + 1, tl + 1) ||
		             !dsn_cat_xtext(out, semi + 1, r->orcpt_len - tl - 1) || !str_catc(out, '\n')))
			return 0;
	}
	if (!str_cats(out, "Final-Recipient: rfc822; ") || !cat_addr(out, r->addr, r->len) ||
	    !str_cats(out, "\nAction: ") || !str_cats(out, d->delayed ? "delayed" : action[r->action]) ||
	    !str_cats(out, "\nStatus: ") || !str_catb(out, st, sl) || !str_catc(out, '\n'))
		return 0;
	if (r->why_len && (!str_cats(out, "Diagnostic-Code: X-Postern; ") ||
	                   !cat_clean(out, r->why, r->why_len, WHY_MAX) || !str_catc(out, '\n')))
		return 0;
	return 1;
}

/* The third part: the header section, or the whole message. */
static int cat_returned(struct str *out, const struct dsn *d)
{
	if (!str_cats(out, d->full ? "\nContent-Type: message/rfc822\n" : "\nContent-Type: text/rfc822-headers\n") ||
	    (eight_bit(d) && !str_cats(out, "Content-Transfer-Encoding: 8bit\n")) || !str_catc(out, '\n') ||
	    !str_catb(out, d->headers, d->hlen))
		return 0;
	return !d->hlen || d->headers[d->hlen - 1] == '\n' || str_catc(out, '\n');
}

int dsn_build(struct str *out, const struct dsn *d)
{
	struct str b = STR_INIT;
	size_t i, n;
	int ok = 0, succ = 0;

	if (!str_cats(&b, "postern-dsn-") || !str_cats(&b, d->qid))
		goto done;
	out->len = 0;
	if (!cat_head(out, d, &b))
		goto done;
	n = shown(d, out->len);
	for (i = 0; i < n; i++)
		if (!cat_explained(out, d, d->r + i, &succ))
			goto done;
	/* A report on every recipient of a large mailing could be refused by
	 * postern-queue for its size, and then be tried again for ever. */
	if (n < d->nr && (!str_cats(out, "... and ") || !str_catu(out, d->nr - n) ||
	                  !str_cats(out, " more recipients, not listed so that this report stays small\n"
	                                 "enough to be delivered.\n\n")))
		goto done;
	if (d->too_large && !str_cats(out, "Your message was too large to be returned in full; only its header\n"
	                                   "section is attached.\n\n"))
		goto done;
	if (!str_cats(out, "--") || !str_cat(out, &b) || !str_cats(out, "\nContent-Type: message/delivery-status\n\n"))
		goto done;
	if (d->envid_len && (!str_cats(out, "Original-Envelope-Id: ") || !dsn_cat_xtext(out, d->envid, d->envid_len) ||
	                     !str_catc(out, '\n')))
		goto done;
	if (!str_cats(out, "Reporting-MTA: dns; ") ||
	    !str_cats(out, d->me) || !str_cats(out, "\nX-Postern-Queue-ID: ") || !str_cats(out, d->qid) ||
	    !str_cats(out, "\nArrival-Date: ") || !date822_cat(out, (time_t)d->arrival) ||
	    !str_catc(out, '\n'))
		goto done;
	for (i = 0; i < n; i++)
		if (!cat_status(out, d, d->r + i))
			goto done;
	if (!str_cats(out, "\n--") || !str_cat(out, &b) || !cat_returned(out, d) ||
	    !str_cats(out, "\n--") || !str_cat(out, &b) || !str_cats(out, "--\n"))
		goto done;
	ok = 1;
done:
	str_free(&b);
	return ok;
}
