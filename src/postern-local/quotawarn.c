/* quotawarn.h.  The warning is a plain message from MAILER-DAEMON at
 * control/me (Auto-Submitted, RFC 3834, so that no vacation program
 * answers it), put into the Maildir as any delivery is; ROOT/quotawarn,
 * an empty file, is touched when one is sent, and none is sent while it
 * is under a day old (Courier's rule and file name).  The percentage is
 * of whichever limit is nearer. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "quotawarn.h"
#include "control.h"
#include "date822.h"
#include "file.h"
#include "io.h"
#include "log.h"
#include "maildir.h"
#include "uniq.h"

#define WARN_EVERY_SECS 86400

static unsigned long long percent(long long used, unsigned long long limit)
{
	unsigned long long u = used > 0 ? (unsigned long long)used : 0;

	if (!limit)
		return 0;
	return u >= limit ? 100 : u > ~0ULL / 100 ? u / (limit / 100 ? limit / 100 : 1) : u * 100 / limit;
}

/* 1 when a warning is due: the stamp is missing or a day old, and now
 * touched (so that two deliveries at once send one). */
static int due(const char *root)
{
	struct str path = STR_INIT;
	struct stat st;
	int fd, r = 0;

	if (!path_join(&path, root, "quotawarn"))
		return 0;
	if (lstat(path.s, &st) == 0 && time(0) - st.st_mtime < WARN_EVERY_SECS)
		goto out;
	fd = openat(AT_FDCWD, path.s, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
	if (fd != -1) {
		r = futimens(fd, 0) == 0;
		close(fd);
	}
out:
	str_free(&path);
	return r;
}

static int text(struct str *m, unsigned long long pct, const struct quota *def, const struct quota_usage *use,
                const char *mailbox, const char *to)
{
	struct str me = STR_INIT;
	int ok;

	if (control_line("me", &me) != 1 && !str_copys(&me, maildir_host()))
		return 0;
	ok = str_cats(m, "From: Mail Delivery System <MAILER-DAEMON@") && str_cat(m, &me) && str_cats(m, ">\nTo: <") &&
	     str_cats(m, to) && str_cats(m, ">\nSubject: Your mailbox is ") && str_catu(m, pct) &&
	     str_cats(m, "% full\nDate: ") && date822_cat(m, time(0)) && str_cats(m, "\nMessage-ID: ") &&
	     uniq_cat_msgid(m, me.s, me.len) && str_cats(m, "\nAuto-Submitted: auto-generated\nMIME-Version: 1.0\n"
	                 "Content-Type: text/plain; charset=us-ascii\n\nThe mailbox ") &&
	     str_cats(m, mailbox) && str_cats(m, " holds ") &&
	     str_catu(m, use->bytes > 0 ? (unsigned long long)use->bytes : 0) && str_cats(m, " bytes in ") &&
	     str_catu(m, use->count > 0 ? (unsigned long long)use->count : 0) && str_cats(m, " messages; its quota is ");
	if (ok && def->bytes)
		ok = str_catu(m, def->bytes) && str_cats(m, " bytes") && (!def->count || str_cats(m, " and "));
	if (ok && def->count)
		ok = str_catu(m, def->count) && str_cats(m, " messages");
	ok = ok && str_cats(m, ".\n\nWhen it is full, new mail for it waits on the server, and goes back\n"
	                       "to its senders if no room is made in time.  Please delete or move\n"
	                       "some of the mail in it.\n\nThis warning is sent at most once a day.\n");
	str_free(&me);
	return ok;
}

int quota_warning(const char *root, const struct quota *def, const struct quota_usage *use, const char *mailbox,
                  const char *to, struct str *name)
{
	unsigned long long level = 90, pb = percent(use->bytes, def->bytes), pc = percent(use->count, def->count);
	unsigned long long pct = pb > pc ? pb : pc;
	struct str m = STR_INIT, why = STR_INIT;
	struct logline l = { STR_INIT };
	int fd = -1, r = -1;

	if (control_num("quotawarn", &level, 90) == -1)
		level = 90; /* a warning is no reason to fail a delivery */
	if (!level || pct < level || !due(root))
		return 0;
	if (!text(&m, pct, def, use, mailbox, to) || (fd = memfd_create("quotawarn", MFD_CLOEXEC)) == -1 ||
	    write_all(fd, m.s, m.len) == -1) {
		if (!str_copys(&why, "4.3.0 unable to write the warning: ") || !str_cats(&why, strerror(errno)))
			why.len = 0;
	} else if (maildir_deliver(root, "Return-Path: <>\n", 16, fd, &why, name, 0, 0) == 0) {
		r = 1;
	}
	log_begin(&l, "quota_warning");
	log_kv(&l, "mailbox", mailbox);
	log_kv(&l, "maildir", root);
	log_kvu(&l, "percent", pct);
	if (r == 1)
		log_kv(&l, "file", name->s ? name->s : "");
	else
		log_kvb(&l, "error", why.s ? why.s : "", why.len);
	log_end(&l);
	if (fd != -1)
		close(fd);
	str_free(&m);
	str_free(&why);
	return r;
}
