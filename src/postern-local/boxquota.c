/* boxquota.h.  control/quota is read again for each message, as
 * control/defaultdelivery is (a lingering postern-local may serve for
 * hours), and the maildirsize at each delivery, since readers and other
 * deliveries change it. */
#include <errno.h>
#include <string.h>
#include <time.h>
#include "boxquota.h"
#include "case.h"
#include "control.h"
#include "die.h"
#include "fmt.h"
#include "log.h"
#include "maildirsize.h"
#include "quotawarn.h"

static const char *box;
static struct str lines = STR_INIT;
static int loaded; /* 0 not yet for this message, 1 read (lines may be empty: no file), -1 unreadable */
static int load_errno;

void box_quota_for(const char *mailbox)
{
	box = mailbox;
	loaded = 0;
}

/* control/quota's word on this mailbox: 1 with *q (maybe no quota), 0
 * when the file is absent or empty (each maildirsize's own definition
 * holds), 2 when it has lines but none for this mailbox (no quota), -1
 * when it cannot be read or a line is malformed (*bad: that line). */
static int configured(struct quota *q, unsigned long *bad)
{
	const char *p, *at = strchr(box, '@');
	unsigned long n = 0;
	int rank = 0;

	if (!loaded)
		loaded = control_lines("quota", &lines) == -1 ? (load_errno = errno, -1) : 1;
	*bad = 0;
	if (loaded == -1)
		return -1;
	if (!lines.len)
		return 0;
	for (p = lines.s; p < lines.s + lines.len; p += strlen(p) + 1) {
		const char *colon = strchr(p, ':');
		struct quota v;
		size_t k;
		int r;
		n++;
		if (!colon || !quota_parse(colon + 1, strlen(colon + 1), &v)) {
			*bad = n;
			return -1;
		}
		k = (size_t)(colon - p);
		/* the mailbox itself, then @DOMAIN for a virtual one, then the
		 * line for everyone: the first line of the best kind */
		if (k == strlen(box) && case_eqb(p, k, box, k))
			r = 3;
		else if (k > 1 && p[0] == '@' && at && case_eqb(p + 1, k - 1, at + 1, strlen(at + 1)))
			r = 2;
		else
			r = k == 0;
		if (r > rank) {
			rank = r;
			*q = v;
		}
	}
	return rank ? 1 : 2;
}

static int say(struct str *why, const char *a, const char *b, const char *c)
{
	why->len = 0;
	(void)(str_cats(why, a) && str_cats(why, b) && (!c || str_cats(why, c)));
	return 111;
}

static void log_over(const char *root, const struct quota *q, const struct quota_usage *u,
                     unsigned long long msgbytes)
{
	struct logline l = { STR_INIT };

	log_begin(&l, "over_quota");
	log_kv(&l, "mailbox", box);
	log_kv(&l, "maildir", root);
	log_kvu(&l, "bytes", u->bytes > 0 ? (unsigned long long)u->bytes : 0);
	log_kvu(&l, "messages", u->count > 0 ? (unsigned long long)u->count : 0);
	log_kvu(&l, "quota_bytes", q->bytes);
	log_kvu(&l, "quota_messages", q->count);
	log_kvu(&l, "size", msgbytes);
	log_end(&l);
}

int box_quota_check(const char *dir, unsigned long long msgbytes, struct str *why, struct box_quota *q)
{
	struct maildirsize m;
	struct quota def = { 0, 0 };
	struct quota_usage use;
	struct str *root = &q->root;
	unsigned long bad;
	int c = configured(&def, &bad), l, fresh;

	root->len = 0;
	if (c == -1 && bad) {
		char num[24];
		num[fmt_ulong(num, bad)] = 0;
		return say(why, "4.3.5 malformed control/quota: line ", num, 0);
	}
	if (c == -1)
		return say(why, "4.3.0 unable to read control/quota: ", strerror(load_errno), 0);
	if (c == 2 || (c == 1 && !def.bytes && !def.count))
		return 0;
	if (!maildirsize_root(dir, root))
		return say(why, "4.3.0 out of memory", "", 0);
	if ((l = maildirsize_load(root->s, &m)) == -1)
		return say(why, "4.3.0 unable to read the maildirsize of ", root->s, 0);
	if (c == 0) {
		/* no control/quota: a maildirsize someone wrote by hand (or
		 * Courier's maildirmake -q) is the quota */
		if (l == 0 || !m.has_def || (!m.def.bytes && !m.def.count)) {
			root->len = 0;
			return 0;
		}
		def = m.def;
	}
	fresh = l == 0 || !m.parsed || m.size > QUOTA_FILE_MAX;
	if (fresh && maildirsize_recount(root->s, &def, &use) == -1)
		return say(why, "4.3.0 unable to count the Maildir for its quota: ", root->s, 0);
	if (!fresh)
		use = m.use;
	/* another definition, a sound count: only the definition changes (a
	 * reader configured otherwise, such as Dovecot, would otherwise have
	 * every delivery count the whole Maildir again) */
	if (!fresh && !quota_same(&m.def, &def) && maildirsize_write(root->s, &def, &use) == -1)
		return say(why, "4.3.0 unable to write the maildirsize of ", root->s, 0);
	/* over, by a count that may have missed what a reader deleted: the
	 * Maildir++ rule is to believe it for 15 minutes */
	if (quota_over(&def, &use, msgbytes) && !fresh && time(0) - m.mtime > QUOTA_STALE_SECS &&
	    maildirsize_recount(root->s, &def, &use) == -1)
		return say(why, "4.3.0 unable to count the Maildir for its quota: ", root->s, 0);
	if (quota_over(&def, &use, msgbytes)) {
		log_over(root->s, &def, &use, msgbytes);
		/* one the quota could never hold goes back now, not after days */
		if (def.bytes && msgbytes > def.bytes) {
			(void)say(why, "5.2.2 message larger than the mailbox's quota: ", root->s, 0);
			return 100;
		}
		return say(why, "4.2.2 mailbox over quota: ", root->s, 0);
	}
	q->def = def;
	q->use = use;
	return 0;
}

/* The size a Maildir file's name gives (",S=N"), or 0 with none. */
static int name_size(const char *name, unsigned long long *bytes)
{
	const char *s = strstr(name, ",S=");

	return s && scan_ulong(s + 3, strlen(s + 3), bytes) && *bytes <= (unsigned long long)__LONG_LONG_MAX__;
}

static void count(struct box_quota *q, const char *name)
{
	unsigned long long bytes;

	if (!name_size(name, &bytes))
		return;
	if (maildirsize_add(q->root.s, (long long)bytes, 1) == -1)
		warn_sys("warning: unable to add to the maildirsize of ", q->root.s);
	if (q->use.bytes <= __LONG_LONG_MAX__ - (long long)bytes)
		q->use.bytes += (long long)bytes;
	if (q->use.count < __LONG_LONG_MAX__)
		q->use.count++;
}

void box_quota_add(struct box_quota *q, const char *name, const char *to)
{
	struct str warning = STR_INIT;

	if (!q->root.len)
		return;
	count(q, name);
	if (quota_warning(q->root.s, &q->def, &q->use, box, to, &warning) == 1)
		count(q, warning.s);
	str_free(&warning);
}
