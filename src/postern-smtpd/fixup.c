/* RFC 6409 8.2 and 8.3: a message submitted without a Date or a
 * Message-ID gets them from postern-smtpd -a, at the end of its header
 * (where the blank line was, or after its last field when it has no
 * body).  A message leaves this host with both, as every receiver
 * expects (some refuse one without a Message-ID), and DKIM signs them
 * (postern-dkimsign hashes what postern-smtpd wrote).  The Date is the
 * time the header ended here, in UTC; the Message-ID is 128 random bits
 * at control/me, as postern-inject makes them: unique without asking
 * anyone, and telling nothing of when or by which process.  A header
 * with a line that is no field gets nothing: what it means cannot be
 * known, so it is not added to. */
#include <time.h>
#include "date822.h"
#include "die.h"
#include "parse.h"
#include "smtpd.h"
#include "uniq.h"

int fixup_fields(const struct body *b, int put)
{
	struct str f = STR_INIT;
	int missing = body_missing(b);

	queue_header_end(); /* a field held there goes before the added ones */
	if (!missing || !put)
		return 0;
	if ((missing & BODY_DATE) &&
	    (!str_cats(&f, "Date: ") || !date822_cat(&f, time(0)) || !str_catc(&f, '\n')))
		die(111, "fatal: unable to write a Date field (memory, or the clock out of range)");
	if ((missing & BODY_MSGID) &&
	    (!str_cats(&f, "Message-ID: ") || !uniq_cat_msgid(&f, cfg.me.s, cfg.me.len) || !str_catc(&f, '\n')))
		die_sys(111, "fatal: unable to make a Message-ID (memory or randomness)");
	queue_put(f.s, f.len);
	str_free(&f);
	return missing;
}
