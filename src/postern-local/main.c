/* postern-local: delivers messages to local recipients of one Unix user,
 * running as that user.  postern-lspawn opened the messages (fd 3, 4, ...
 * with -b; fd 0 without) and started us as root; the first thing main does
 * is become the recipient for good (identity.c), before it reads anything.
 * Then each message is delivered in turn, each with its own result.  See
 * doc/postern-local.8 and doc/dot-postern.5.
 *
 * Trust: this process holds nothing the recipient may not see: every
 * message is addressed to this user, and every other input (argv, the dot
 * files, the Maildir) is the user's or lspawn's. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "addr.h"
#include "argblank.h"
#include "control.h"
#include "die.h"
#include "envelope.h"
#include "esmtpdsn.h"
#include "file.h"
#include "home.h"
#include "io.h"
#include "log.h"
#include "str.h"
#include "seconds.h"
#include "uniq.h"
#include "dotfile.h"
#include "identity.h"
#include "batch.h"
#include "forward.h"
#include "linger.h"
#include "maildir.h"
#include "boxquota.h"
#include "program.h"

#define USAGE "postern-local [-b [-l]] user|alias|virtual USER HOME EXT RECIPIENT SENDER QID MAILPARAMS RCPTPARAMS [...]"
#define HEADER_SCAN_MAX (1024 * 1024)
#define HOPS_MAX 100
#define TEXT_MAX 999 /* plus the LF: lspawn reads at most 1000 bytes */
#define DOTFILE_MAX ((size_t)(DOT_LINE_MAX + 1) * DOT_LINES_MAX)
#define TIMEOUT_MAX 86400

enum mode { MODE_USER, MODE_ALIAS, MODE_VIRTUAL };

static enum mode mode;
static const char *user, *home, *sender, *qid, *recipient;
/* the message's and the recipient's DSN parameters (doc/dsn.md), for the
 * copy a forward queues */
static const char *mailparams, *rcptparams;
/* what a success is: K delivered, H forwarded to one address with the
 * DSN request, X forwarded among several destinations (doc/dsn.md,
 * "Forwards") */
static char success = 'K';
static struct str ext = STR_INIT;    /* lower-cased, NUL-terminated */
static struct str local = STR_INIT, host = STR_INIT;
static struct str envext = STR_INIT; /* EXT for programs */
static struct str dflt = STR_INIT;   /* DEFAULT for programs, when a -default file matched */
static int have_dflt;
static struct str source = STR_INIT; /* which dot file (or defaultdelivery) said what to do */
static struct str pre = STR_INIT;    /* Return-Path and Delivered-To */
static struct str dt = STR_INIT;     /* Delivered-To alone, for forwards */
static int msgfd;                    /* this message: 0, or 3 + its index with -b */

/* -b: a batch of messages, one result line each ("K text", "D text" or
 * "Z text", in order) and exit 0.  finish() jumps back to the loop in main
 * instead of exiting, so one message's failure ends only that message. */
static int batch;
static size_t nmsg = 1, cur;
static int started;                  /* cur names a message being delivered */
static jmp_buf next_message;
static char **margs;                 /* LOCAL_MSG_ARGS of each message (batch.h) */
static int linger;                   /* -l: then wait on fd 0 for more (linger.h) */

/* A message's file is let go before its result is said: on that result
 * postern-clean may put the queue file back in queue/pool/, and it reuses
 * only a file open nowhere else (src/lib/pool.c: whoever still held it
 * would read the next message written into it).  The descriptor's number
 * stays taken, by /dev/null, until the batch ends, so nothing opened later
 * gets it and linger_release closes only what it should.  /dev/null itself
 * is kept above every message's number (3 to 3 + LOCAL_BATCH_MAX - 1): at
 * a lower one, a later and larger batch's files would be moved onto it
 * (linger.c, place), and from then on each release would copy a message
 * file instead of letting one go.  Failing all that, the file stays open:
 * then it is not reused, which costs only speed. */
static void release_message(void)
{
	static int null_fd = -1;

	if (null_fd == -1) {
		int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (fd != -1) {
			null_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3 + LOCAL_BATCH_MAX);
			close(fd);
		}
	}
	if (null_fd != -1)
		(void)dup3(null_fd, msgfd, O_CLOEXEC);
}

/* -b: answers held back (doc/postern-local.8, "Batches").  A message
 * whose Maildir copies wait for their new/'s fsync is answered once
 * maildir_sync has run, one fsync of each directory for the batch instead
 * of one a message; every answer after it waits too, so that the lines
 * stay in order.  They go out at the end of the batch, before a program
 * or a forward starts (either may take long), and at the start and the
 * end of a message once HOLD_MS have passed since the last line: lspawn
 * kills a child that says nothing for control/timeoutlocal seconds, and
 * holding must not stretch the silence past one message and HOLD_MS.
 * lspawn answers postern-send for a batch only once every line is there,
 * so nothing waits longer for it. */
#define HOLD_MS 1000
struct held {
	char st;          /* K, H, X, D or Z */
	unsigned mask;    /* its new/ directories in later */
	const char *qid, *rcpt;
	struct str text;  /* cleaned, without the LF */
};
static struct held held[LOCAL_BATCH_MAX];
static size_t nheld;
static long long last_said;        /* monotonic_ms() of the last line, or the batch's start */
static struct dirsync later;
static unsigned cur_mask;            /* this message's new/ directories in later */

/* The delivery's log line, held until the next log_flush. */
static void log_result(char st, const char *q, const char *rcpt, const struct str *t)
{
	struct logline l = { STR_INIT };

	log_begin(&l, "delivery");
	log_kv(&l, "qid", q ? q : "");
	log_kv(&l, "to", rcpt ? rcpt : "");
	log_kv(&l, "status", st == 'D' ? "permanent" : st == 'Z' ? "temporary" : "delivered");
	log_kvb(&l, "text", t->s ? t->s : "", t->len);
	log_end(&l);
}

/* A result's text as lspawn takes it: no control bytes, at most
 * TEXT_MAX bytes, not cut inside a UTF-8 sequence. */
static void clean(struct str *t)
{
	size_t i;

	for (i = 0; i < t->len; i++)
		if ((unsigned char)t->s[i] < 0x20 || t->s[i] == 0x7f)
			t->s[i] = '?';
	if (t->len > TEXT_MAX) {
		t->len = TEXT_MAX;
		while (t->len && ((unsigned char)t->s[t->len] & 0xc0) == 0x80)
			t->len--;
	}
}

/* A result line ("K text"), or (batch 0) the bare text. */
static void say(char st, const struct str *t)
{
	struct str line = STR_INIT;

	last_said = monotonic_ms();
	if ((batch && (!str_catc(&line, st) || !str_catc(&line, ' '))) ||
	    !str_catb(&line, t->s ? t->s : "", t->len) || !str_catc(&line, '\n') || write_all(1, line.s, line.len) == -1)
		_exit(111);
	str_free(&line);
}

/* A message's log line, then its result line. */
static void answer(char st, const char *q, const char *rcpt, const struct str *t)
{
	log_result(st, q, rcpt, t);
	log_flush(); /* before lspawn hears of it */
	say(st, t);
}

/* Makes the held messages' copies durable and answers them.  Returns the
 * bits of the directories whose fsync failed (sync_why says how): a held
 * success in one of them is answered Z, to be delivered again. */
static struct str sync_why = STR_INIT;
static unsigned flush_held(void)
{
	struct str *why = &sync_why;
	unsigned failed = later.n ? maildir_sync(&later, why) : 0;
	size_t i;

	if (failed)
		clean(why); /* a Maildir's name is the dot file's */
	for (i = 0; i < nheld; i++) {
		struct held *h = held + i;
		if ((h->mask & failed) && h->st != 'D' && h->st != 'Z')
			answer('Z', h->qid, h->rcpt, why);
		else
			answer(h->st, h->qid, h->rcpt, &h->text);
	}
	nheld = 0;
	return failed;
}

/* The result line on stdout, then the exit (or, with -b, the next
 * message).  Every way out goes through here (apart from a home_dir() that
 * cannot find the install, which dies 111).  A failure before the first
 * message (identity, arguments) is every message's result. */
static _Noreturn void finish(int code, const char *text, size_t n)
{
	struct str t = STR_INIT;
	char st = code == 0 ? success : code == 100 ? 'D' : 'Z';
	size_t i;

	if (!str_copyb(&t, text, n))
		_exit(111);
	clean(&t);
	if (started || !batch)
		release_message();
	if (!batch || !started) {
		/* one message, or every message's before the first began */
		log_result(st, qid, recipient, &t);
		log_flush();
		for (i = 0; i < (batch ? nmsg : 1); i++)
			say(st, &t);
		_exit(code);
	}
	if (nheld || cur_mask) {
		struct held *h = held + nheld;
		h->st = st;
		h->mask = cur_mask;
		h->qid = qid;
		h->rcpt = recipient;
		h->text.len = 0;
		if (!str_cat(&h->text, &t))
			_exit(111);
		nheld++;
		if (monotonic_ms() - last_said >= HOLD_MS)
			(void)flush_held();
	} else
		answer(st, qid, recipient, &t);
	str_free(&t);
	longjmp(next_message, 1);
}

static _Noreturn void finishs(int code, const struct str *s)
{
	finish(code, s->s ? s->s : "", s->len);
}

/* The strings a message's delivery builds are static and emptied before
 * use: its end jumps past any free, and a lingering postern-local (-l)
 * may deliver for hours, so one per message would add up. */
static _Noreturn void fail(int code, const char *a, const char *b, const char *c)
{
	static struct str t = STR_INIT;
	t.len = 0;
	if (!str_cats(&t, a) || (b && !str_cats(&t, b)) || (c && !str_cats(&t, c)))
		finish(111, "4.3.0 out of memory", 19);
	finishs(code, &t);
}

static _Noreturn void nomem(void) { finish(111, "4.3.0 out of memory", 19); }

/* 1: buf holds the file; 0: no such file.  Anything else ends the delivery:
 * a dot file we cannot read, or one that someone else could have written,
 * must not be guessed around (qmail's rule: a temporary failure). */
static int read_dotfile(const char *name, struct str *buf)
{
	struct stat st;
	const char *why = 0, *tail = 0;
	int fd = openat(AT_FDCWD, name, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd == -1) {
		if (errno == ENOENT)
			return 0;
		fail(111, "4.3.0 unable to open ", name, errno == EACCES ? ": permission denied" : ": system error");
	}
	/* fail() does not return: the file is closed first, or a lingering
	 * process would keep one more fd for every refused dot file */
	if (fstat(fd, &st) == -1)
		why = "4.3.0 unable to stat ";
	else if (!S_ISREG(st.st_mode))
		why = "4.7.0 ", tail = " is not a regular file";
	else if (st.st_uid != getuid() && st.st_uid != 0)
		why = "4.7.0 ", tail = " is not owned by the recipient or root";
	else if (st.st_mode & 022)
		why = "4.7.0 ", tail = " is group or world writable";
	else if (read_fd(fd, buf, DOTFILE_MAX) == -1)
		why = "4.3.0 unable to read ", tail = errno == EFBIG ? ": file too big" : 0;
	close(fd);
	if (why)
		fail(111, why, name, tail);
	return 1;
}

static void parse_or_fail(struct dotfile *d, const char *buf, size_t len)
{
	size_t line;
	enum dot_error e = dotfile_parse(d, buf, len, &line);
	static struct str t = STR_INIT;

	if (e == DOT_OK)
		return;
	if (e == DOT_ERR_NOMEM)
		nomem();
	t.len = 0;
	if (!str_cats(&t, "4.7.0 ") || !str_cats(&t, dot_error_text(e)) || !str_cats(&t, " in ") ||
	    !str_cat(&t, &source) || !str_cats(&t, " line ") || !str_catu(&t, line))
		nomem();
	finishs(111, &t);
}

/* control/defaultdelivery, in dot-file syntax; "./Maildir/" when absent. */
static void default_delivery(struct dotfile *d, struct str *buf)
{
	static struct str list = STR_INIT;
	const char *p;
	int r = control_lines("defaultdelivery", &list);

	if (r < 0)
		finish(111, "4.3.0 unable to read control/defaultdelivery", 44);
	buf->len = 0;
	if (r == 0 || list.len == 0) {
		if (!str_copys(buf, "./Maildir/\n"))
			nomem();
	} else
		for (p = list.s; p < list.s + list.len; p += strlen(p) + 1)
			if (!str_cats(buf, p) || !str_catc(buf, '\n'))
				nomem();
	if (!str_copys(&source, "control/defaultdelivery"))
		nomem();
	parse_or_fail(d, buf->s, buf->len);
}

/* The user and alias modes: .postern, or the -default search for EXT. */
static void select_user(struct dotfile *d, struct str *buf)
{
	static struct str cands = STR_INIT;
	const char *p;

	if (ext.len == 0) {
		if (mode == MODE_ALIAS)
			fail(100, "5.1.1 no mailbox here by that name", 0, 0);
		if (!str_copys(&source, ".postern"))
			nomem();
		if (!read_dotfile(".postern", buf) || buf->len == 0) {
			default_delivery(d, buf);
			return;
		}
		parse_or_fail(d, buf->s, buf->len);
		return;
	}
	if (!ext_check(ext.s, ext.len))
		fail(100, "5.1.1 unusable address extension: ", ext.s, 0);
	if (!dotfile_candidates(&cands, ext.s, ext.len))
		nomem();
	for (p = cands.s; p < cands.s + cands.len;) {
		const char *name = p, *rest = p + strlen(p) + 1;
		p = rest + strlen(rest) + 1;
		if (!read_dotfile(name, buf))
			continue;
		if (!str_copys(&source, name))
			nomem();
		if (name != cands.s) {
			have_dflt = 1;
			if (!str_copys(&dflt, rest))
				nomem();
		}
		/* qmail: an empty dot file means the default delivery */
		if (buf->len == 0)
			default_delivery(d, buf);
		else
			parse_or_fail(d, buf->s, buf->len);
		return;
	}
	if (mode == MODE_ALIAS)
		fail(100, "5.1.1 no mailbox here by that name", 0, 0);
	fail(100, "5.1.1 no such address", 0, 0);
}

/* Virtual mode: HOME/DOMAIN/LOCAL, or HOME/DOMAIN/BASE for LOCAL = BASE-EXT. */
static void select_virtual(struct dotfile *d, struct str *buf)
{
	static struct str dir = STR_INIT, mailbox = STR_INIT;
	struct stat st;
	size_t base;
	int tries;

	if (!vlocal_check(local.s, local.len))
		fail(100, "5.1.3 unusable virtual local part: ", local.s, 0);
	if (!vdomain_check(host.s, host.len))
		fail(100, "5.1.3 unusable virtual domain: ", host.s, 0);
	base = vlocal_base(local.s, local.len);
	for (tries = 0; tries < 2; tries++) {
		size_t n = tries == 0 ? local.len : base;
		if (tries == 1 && (base == 0 || base == local.len))
			break;
		if (!str_copys(&dir, host.s) || !str_catc(&dir, '/') || !str_catb(&dir, local.s, n))
			nomem();
		if (stat(dir.s, &st) == 0) {
			if (!S_ISDIR(st.st_mode))
				fail(111, "4.7.0 virtual mailbox is not a directory: ", dir.s, 0);
			/* control/quota's name for it */
			if (!str_copyb(&mailbox, local.s, n) || !str_catc(&mailbox, '@') || !str_cat(&mailbox, &host))
				nomem();
			box_quota_for(mailbox.s);
			if (tries == 1 && !str_copys(&envext, local.s + base + 1))
				nomem();
			goto found;
		}
		if (errno != ENOENT && errno != ENOTDIR)
			fail(111, "4.3.0 unable to look up virtual mailbox ", dir.s, 0);
	}
	fail(100, "5.1.1 no such mailbox", 0, 0);
found:
	if (chdir(dir.s) == -1)
		fail(111, "4.3.0 unable to enter virtual mailbox ", dir.s, 0);
	if (st.st_mode & 002)
		fail(111, "4.7.0 virtual mailbox is world writable: ", dir.s, 0);
	if (!str_copys(&source, dir.s) || !str_cats(&source, "/.postern"))
		nomem();
	if (!read_dotfile(".postern", buf) || buf->len == 0) {
		/* virtual mailboxes have no control/defaultdelivery: that names a
		 * delivery for people, not for postern-vmail */
		if (!str_copys(buf, "./Maildir/\n") || !str_copys(&source, dir.s) ||
		    !str_cats(&source, "/Maildir/"))
			nomem();
	}
	parse_or_fail(d, buf->s, buf->len);
}

static int catenv(struct str *e, const char *k, const char *v, size_t n)
{
	return str_cats(e, k) && str_catc(e, '=') && str_catb(e, v, n) && str_catz(e);
}

/* The program environment: envelope data goes here, never into argv. */
static char **program_env(struct str *e)
{
	static char *ptr[16];
	size_t i = 0;
	char *p;

	e->len = 0;
	if (!catenv(e, "SENDER", sender, strlen(sender)) ||
	    !catenv(e, "RECIPIENT", recipient, strlen(recipient)) ||
	    !catenv(e, "USER", user, strlen(user)) || !catenv(e, "HOME", home, strlen(home)) ||
	    !catenv(e, "LOCAL", local.s, local.len) || !catenv(e, "EXT", envext.s ? envext.s : "", envext.len) ||
	    !catenv(e, "HOST", host.s, host.len) || !catenv(e, "DTLINE", dt.s, dt.len) ||
	    !catenv(e, "RPLINE", pre.s, pre.len - dt.len) || !catenv(e, "QID", qid, strlen(qid)) ||
	    !catenv(e, "PATH", "/usr/bin:/bin", 13) ||
	    (have_dflt && !catenv(e, "DEFAULT", dflt.s ? dflt.s : "", dflt.len)))
		nomem();
	for (p = e->s; p < e->s + e->len && i < 15; p += strlen(p) + 1)
		ptr[i++] = p;
	ptr[i] = 0;
	return ptr;
}

/* What a Maildir file of this message will hold, at most: the trace
 * lines, the message, and the line end a last line may lack. */
static unsigned long long message_bytes(void)
{
	struct stat st;

	if (fstat(msgfd, &st) == -1 || st.st_size < 0)
		fail(111, "4.3.0 unable to stat the message", 0, 0);
	return (unsigned long long)st.st_size + pre.len + 1;
}

/* Before a program or a forward: what is held goes out (flush_held),
 * this message's Maildir copies made durable with it. */
static void settle(void)
{
	unsigned mine = cur_mask;

	cur_mask = 0; /* made durable, or failed: either way no longer held */
	if ((nheld || later.n) && (flush_held() & mine))
		finishs(111, &sync_why);
}

static _Noreturn void deliver(const struct dotfile *d)
{
	static struct str why = STR_INIT, name = STR_INIT, path = STR_INIT;
	static struct str env = STR_INIT, penv = STR_INIT, queue = STR_INIT;
	static struct box_quota qroot[DOT_LINES_MAX]; /* each Maildir line's quota */
	unsigned long long timeout = 0, bytes = 0;
	size_t i, nmaildir = 0, nprog = 0, nfwd = 0;
	int stop = 0;

	why.len = name.len = path.len = env.len = 0;
	/* Every Maildir's quota before anything is delivered: a full one
	 * found half-way would have the lines before it (a program, another
	 * Maildir) done again at each retry until the owner makes room. */
	for (i = 0; i < d->n && i < DOT_LINES_MAX; i++) {
		int q;
		qroot[i].root.len = 0;
		if (d->e[i].kind != DOT_MAILDIR)
			continue;
		if (!bytes)
			bytes = message_bytes();
		if (!str_copyb(&path, d->e[i].s, d->e[i].len))
			nomem();
		if ((q = box_quota_check(path.s, bytes, &why, &qroot[i])) != 0)
			finishs(q, &why);
	}

	for (i = 0; i < d->n && !stop; i++) {
		const struct dot_entry *x = &d->e[i];
		int r;
		struct logline l = { STR_INIT };

		switch (x->kind) {
		case DOT_MAILDIR:
			if (!str_copyb(&path, x->s, x->len))
				nomem();
			r = maildir_deliver(path.s, pre.s, pre.len, msgfd, &why, &name, batch ? &later : 0, &cur_mask);
			if (r)
				finishs(r, &why);
			box_quota_add(&qroot[i], name.s ? name.s : "", recipient);
			nmaildir++;
			log_begin(&l, "maildir");
			log_kv(&l, "qid", qid);
			log_kv(&l, "to", recipient);
			log_kv(&l, "dir", path.s);
			log_kv(&l, "file", name.s ? name.s : "");
			log_end(&l);
			break;
		case DOT_PROGRAM:
			settle();
			if (!timeout) {
				if (control_num("programtimeout", &timeout, 300) == -1 || timeout == 0 ||
				    timeout > TIMEOUT_MAX)
					finish(111, "4.3.0 bad control/programtimeout", 32);
			}
			r = program_deliver(x->s, x->len, program_env(&penv), pre.s, pre.len, msgfd, timeout, &why);
			log_begin(&l, "program");
			log_kv(&l, "qid", qid);
			log_kv(&l, "to", recipient);
			log_kvu(&l, "line", x->line);
			log_kvb(&l, "text", why.s ? why.s : "", why.len);
			log_end(&l);
			if (r == 100 || r == 111)
				finishs(r, &why);
			nprog++;
			if (r == 99)
				stop = 1; /* qmail: 99 means delivered, and ignore the rest of the file */
			break;
		case DOT_FORWARD:
			nfwd++; /* all in one copy, below */
			break;
		}
	}
	if (nfwd) {
		/* one destination, and a forward: the DSN request goes on with
		 * the copy, whose delivery answers it (doc/dsn.md, "Forwards") */
		int r, single = nfwd == 1 && nmaildir == 0 && nprog == 0;
		settle();
		if (!forward_envelope(&env, d, i, single, sender, recipient, mailparams, rcptparams) ||
		    !home_path(&queue, "bin/postern-queue"))
			nomem();
		r = forward_inject(queue.s, dt.s, dt.len, msgfd, &env, &why);
		if (r)
			finishs(r, &why);
		success = single ? 'H' : 'X';
	}
	why.len = 0;
	if (d->n == 0) {
		if (!str_cats(&why, "2.0.0 no deliveries in ") || !str_cat(&why, &source) ||
		    !str_cats(&why, ": message dropped"))
			nomem();
		finishs(0, &why);
	}
	if (!str_cats(&why, "2.0.0 delivered: ") || !str_catu(&why, nmaildir) || !str_cats(&why, " maildir, ") ||
	    !str_catu(&why, nprog) || !str_cats(&why, " program, ") || !str_catu(&why, nfwd) ||
	    !str_cats(&why, " forward (") || !str_cat(&why, &source) || !str_cats(&why, ")"))
		nomem();
	finishs(0, &why);
}

/* One message: argv holds its EXT RECIPIENT SENDER QID MAILPARAMS
 * RCPTPARAMS, msgfd the file.
 * Never returns: deliver() always finishes. */
static _Noreturn void one_message(char **arg)
{
	/* static: a message's end jumps past any free, and with -b the next
	 * message reuses them (a dot file may be 4 MB) */
	static struct str hdr = STR_INIT, buf = STR_INIT;
	static struct dotfile d;
	struct stat st;
	size_t at, hops, rlen;
	off_t off = 0;

	free(d.e);
	d = (struct dotfile){ 0 };
	hdr.len = buf.len = 0;
	qid = 0;
	recipient = 0;
	success = 'K';
	cur_mask = 0;
	if (nheld && monotonic_ms() - last_said >= HOLD_MS)
		(void)flush_held();
	have_dflt = 0;
	dflt.len = 0;
	sender = arg[2];
	/* A bad argument is lspawn's or the install's fault, never the
	 * message's: an old lspawn still running after ./install puts four
	 * fields a message where this postern-local reads six.  So each is
	 * 111, and the message waits for the restart that ends the mismatch. */
	if (qid_valid(arg[3], strlen(arg[3])))
		qid = arg[3];
	else
		fail(111, "4.3.5 bad queue id", 0, 0);
	rlen = strlen(arg[1]);
	if (addr_check(arg[1], rlen) != ADDR_OK)
		fail(111, "4.3.5 bad recipient address", 0, 0);
	recipient = arg[1];
	if (envelope_sender_ok(sender, strlen(sender)) != ENV_OK)
		fail(111, "4.3.5 bad sender address", 0, 0);
	/* lspawn checked them as well; they go into a forward's envelope */
	mailparams = arg[4];
	rcptparams = arg[5];
	if (!dsn_params_ok(mailparams, strlen(mailparams), 0) || !dsn_params_ok(rcptparams, strlen(rcptparams), 1))
		fail(111, "4.3.5 bad DSN parameters", 0, 0);
	if (!str_copys(&ext, arg[0]))
		nomem();
	lowercase(ext.s, ext.len);
	at = addr_at(recipient, rlen);
	if (!str_copyb(&local, recipient, at) || !str_copys(&host, recipient + at + 1) ||
	    !str_copys(&envext, ext.s))
		nomem();
	if (mode == MODE_VIRTUAL) {
		lowercase(local.s, local.len);
		lowercase(host.s, host.len);
		envext.len = 0;
		envext.s[0] = 0;
	}
	/* the queue's message file, read with pread so every delivery starts
	 * from its first byte */
	if (lseek(msgfd, 0, SEEK_CUR) == -1)
		fail(111, "4.3.0 the message is not a seekable file", 0, 0);
	if (!str_ready(&hdr, 65536))
		nomem();
	while (hdr.len < HEADER_SCAN_MAX) {
		size_t want = hdr.cap - 1 - hdr.len;
		ssize_t r;
		if (want == 0) {
			if (!str_readyplus(&hdr, hdr.len))
				nomem();
			continue;
		}
		if (want > HEADER_SCAN_MAX - hdr.len)
			want = HEADER_SCAN_MAX - hdr.len;
		do
			r = pread(msgfd, hdr.s + hdr.len, want, off);
		while (r == -1 && errno == EINTR);
		if (r == -1)
			finish(111, "4.3.0 unable to read the message", 32);
		if (r == 0)
			break;
		hdr.len += (size_t)r;
		off += r;
		if (memmem(hdr.s, hdr.len, "\n\n", 2) || (hdr.len >= 1 && hdr.s[0] == '\n'))
			break;
	}
	if (header_scan(hdr.s, hdr.len, recipient, rlen, &hops))
		fail(100, "5.4.6 mail loop: Delivered-To already holds ", recipient, 0);
	if (hops > HOPS_MAX)
		fail(100, "5.4.6 mail loop: too many hops (Received and Delivered-To lines)", 0, 0);

	if (!str_copys(&dt, "Delivered-To: ") || !str_cats(&dt, recipient) || !str_catc(&dt, '\n') ||
	    !str_copys(&pre, "Return-Path: <") || !str_cats(&pre, sender) || !str_cats(&pre, ">\n") ||
	    !str_cat(&pre, &dt))
		nomem();

	/* qmail's rule: a home anyone can write to cannot be trusted for dot
	 * files; entered for every message, as a virtual mailbox leaves us in
	 * its own directory */
	if (stat(home, &st) == -1)
		fail(111, "4.3.0 unable to stat home directory ", home, 0);
	if (st.st_mode & 002)
		fail(111, "4.7.0 home directory is world writable: ", home, 0);
	if (chdir(home) == -1)
		fail(111, "4.3.0 unable to enter home directory ", home, 0);

	box_quota_for(user);
	if (mode == MODE_VIRTUAL)
		select_virtual(&d, &buf);
	else
		select_user(&d, &buf);
	deliver(&d);
}

int main(int argc, char **argv)
{
	int args_ok;

	progname = "postern-local";
	/* counted before anything else, so that even a refusal to start has
	 * one result line per message */
	if (argc > 1 && !strcmp(argv[1], "-b")) {
		batch = 1;
		argv++;
		argc--;
		if (argc > 1 && !strcmp(argv[1], "-l")) {
			linger = 1;
			argv++;
			argc--;
		}
	}
	args_ok = argc >= 4 + LOCAL_MSG_ARGS && (argc - 4) % LOCAL_MSG_ARGS == 0 &&
	          (size_t)(argc - 4) / LOCAL_MSG_ARGS <= LOCAL_BATCH_MAX && (batch || argc == 4 + LOCAL_MSG_ARGS);
	if (args_ok)
		nmsg = (size_t)(argc - 4) / LOCAL_MSG_ARGS;
	{
		const char *why = identity_take();
		if (why) {
			static struct str status;
			if (!str_copys(&status, "4.3.0 ") || !str_cats(&status, why))
				nomem();
			finishs(111, &status);
		}
	}
	umask(077);
	/* log lines reach the log when an answer does, a message's maildir
	 * lines and its delivery line in one write (a held answer's delivery
	 * line comes with the lines after it) */
	log_hold();
	/* a program or postern-queue that stops reading must not kill us */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		fail(111, "4.3.0 unable to ignore SIGPIPE", 0, 0);

	if (!args_ok)
		fail(111, "4.3.5 usage: ", USAGE, 0);
	if (!strcmp(argv[1], "user"))
		mode = MODE_USER;
	else if (!strcmp(argv[1], "alias"))
		mode = MODE_ALIAS;
	else if (!strcmp(argv[1], "virtual"))
		mode = MODE_VIRTUAL;
	else
		fail(111, "4.3.5 unknown mode: ", argv[1], 0);
	user = argv[2];
	home = argv[3];
	if (!user[0] || !home[0] || home[0] != '/')
		fail(111, "4.3.5 empty user or home not absolute", 0, 0);
	/* a program started for one message must not inherit the others */
	if (batch)
		for (cur = 0; cur < nmsg; cur++)
			if (fcntl(3 + (int)cur, F_SETFD, FD_CLOEXEC) == -1)
				fail(111, "4.3.0 a message's file descriptor is missing", 0, 0);

	/* a program run for a message must not hold lspawn's socket */
	if (linger && fcntl(0, F_SETFD, FD_CLOEXEC) == -1)
		fail(111, "4.3.0 the request socket is missing", 0, 0);

	/* the envelopes out of the public command line (argblank.h); the mode,
	 * user and home stay */
	if (!(margs = args_blank(argv + 4, LOCAL_MSG_ARGS * nmsg)))
		nomem();
	started = 1;
	for (;;) {
		const char *why;
		long got;
		last_said = monotonic_ms();
		for (cur = 0; cur < nmsg; cur++)
			if (setjmp(next_message) == 0) {
				msgfd = batch ? 3 + (int)cur : 0;
				one_message(margs + LOCAL_MSG_ARGS * cur);
			}
		(void)flush_held();
		if (!linger)
			_exit(0);
		/* every line is out (finish wrote them) and no message file is
		 * held: now the word that we wait */
		linger_release(nmsg);
		log_flush();
		if (write_all(1, "R\n", 2) == -1)
			_exit(111);
		got = linger_next(0, &margs, &why);
		if (got == 0)
			_exit(0);
		if (got < 0)
			die(111, "fatal: ", why);
		nmsg = (size_t)got;
	}
}
