/* postern-send: the scheduler.  Runs as postern-send under postern-start,
 * with the pipes of doc/pipes.md on fds 3-6 (and 9 for readiness); reads
 * the queue, never a message body, and decides who delivers what when. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "send.h"
#include "addr.h"
#include "conf.h"
#include "control.h"
#include "die.h"
#include "dkim.h"
#include "home.h"
#include "io.h"
#include "log.h"
#include "netstring.h"
#include "selfpipe.h"

#define USAGE "postern-send (started by postern-start)"
#define TRIGGER_LINE_MAX 80

struct settings set;
unsigned long long now;

static int sigfd = -1; /* the self-pipe: readable when a signal came */

/* Exactly one scheduler per queue: a second one would deliver everything
 * twice.  The lock is on info/, the directory only postern-send writes; a
 * postern-send started while an old one still finishes its deliveries
 * waits here for it.  The kernel drops the lock however the holder dies. */
static void one_scheduler(void)
{
	int fd = openat(AT_FDCWD, "info", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd == -1)
		die_sys(111, "fatal: unable to open queue/info");
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno != EWOULDBLOCK)
			die_sys(111, "fatal: unable to lock queue/info");
		warn("warning: another postern-send runs on this queue; waiting for it to finish");
		while (flock(fd, LOCK_EX) == -1) {
			if (errno != EINTR)
				die_sys(111, "fatal: unable to lock queue/info");
			if (selfpipe_term) /* told to stop before it ever started */
				_exit(0);
		}
	}
	/* fd stays open, holding the lock, until we exit */
}

static void tick(void) { now = (unsigned long long)time(0); }

/* Reads every control file postern-send uses (doc/control.md).  At start
 * an unreadable file is fatal; on SIGHUP the old settings stay. */
static int load_settings(struct settings *s)
{
	struct str db = STR_INIT;
	char host[256];
	int r;

	if (control_line("me", &s->me) == 0) {
		if (gethostname(host, sizeof host - 1) == -1)
			return -1;
		host[sizeof host - 1] = 0;
		if (!str_copys(&s->me, host))
			return -1;
	} else if (s->me.len == 0)
		return -1;
	if ((r = control_lines("locals", &s->rc.locals)) < 0)
		return -1;
	if (r == 0 && (!str_cat(&s->rc.locals, &s->me) || !str_catz(&s->rc.locals) ||
	               !str_cats(&s->rc.locals, "localhost") || !str_catz(&s->rc.locals)))
		return -1;
	if (control_lines("virtualdomains", &s->rc.virtuals) < 0)
		return -1;
	/* Bounces and delay warnings come From MAILER-DAEMON@me: signed
	 * when control/dkimdomains names a key, as submission's mail is.  A
	 * me that DKIM cannot name (an address literal, say) would have
	 * postern-dkimsign refuse every bounce: they go unsigned. */
	{
		struct str keys = STR_INIT;
		size_t ml = s->me.len;
		if ((r = control_lines("dkimdomains", &keys)) < 0)
			return -1;
		str_free(&keys);
		while (ml && s->me.s[ml - 1] == '.') /* a trailing dot: the same name */
			ml--;
		s->dkim = r == 1 && dkim_name_ok(s->me.s, ml);
	}
	if ((r = control_line("separators", &s->rc.seps)) < 0)
		return -1;
	if (r == 0 && !str_copys(&s->rc.seps, "-"))
		return -1;
	if (control_num("minuid", &s->rc.minuid, 1000) < 0 ||
	    control_num("concurrencylocal", &s->conc, 10) < 0 ||
	    control_num("retrymin", &s->retrymin, 60) < 0 ||
	    control_num("retrymax", &s->retrymax, 4 * 3600) < 0 ||
	    control_num("queuelifetime", &s->lifetime, 604800) < 0 ||
	    control_num("concurrencyremote", &s->concremote, 20) < 0 ||
	    control_num("concurrencyperdomain", &s->concdomain, 5) < 0 ||
	    control_num("concurrencyperuser", &s->concuser, 0) < 0 ||
	    control_num("bouncewarn", &s->bouncewarn, 4 * 3600) < 0)
		return -1;
	if (s->concremote == 0)
		s->concremote = 1;
	if (s->concremote > CONC_MAX)
		s->concremote = CONC_MAX;
	if (s->concdomain == 0)
		s->concdomain = 1;
	/* 0 (the default): no limit of its own, concurrencylocal's */
	if (s->concuser == 0 || s->concuser > CONC_MAX)
		s->concuser = CONC_MAX;
	if (s->conc == 0)
		s->conc = 1;
	if (s->conc > CONC_MAX)
		s->conc = CONC_MAX;
	if (s->retrymin == 0)
		s->retrymin = 1;
	if ((r = control_line("doublebounceto", &db)) < 0)
		return -1;
	if (r == 0 && !str_copys(&db, "postmaster"))
		return -1;
	s->doublebounceto.len = 0;
	if (!str_cat(&s->doublebounceto, &db) ||
	    (!memchr(db.s, '@', db.len) && (!str_catc(&s->doublebounceto, '@') ||
	                                    !str_cat(&s->doublebounceto, &s->me))))
		return -1;
	str_free(&db);
	if (addr_check(s->doublebounceto.s, s->doublebounceto.len) != ADDR_OK) {
		errno = EINVAL;
		return -1;
	}
	s->rc.vmail = conf_users[USER_VMAIL];
	s->rc.alias = conf_users[USER_ALIAS];
	/* last: its problems are logged, and only once a reading */
	return srs_conf_load(&s->srs);
}

/* The trigger: lines "ID\n" from postern-queue.  A dummy writer keeps the
 * FIFO from reporting EOF; if the FIFO's mode does not allow one, EOF just
 * means reopen. */
static int trig = -1, trig_w = -1;
static char tbuf[TRIGGER_LINE_MAX];
static size_t tlen;
static int tskip, need_scan;
/* postern-qctl's words on the trigger (never a queue id: one starts with
 * a digit): "flush", every retry now; "flush ID", that message's retries
 * now; "cancel", read queue/cancel/ */
static int want_flush, want_cancel;

static void flush_one(const char *qid, size_t len)
{
	struct logline l = { STR_INIT };
	struct msg *m = msg_find(qid, len);

	log_begin(&l, "flush");
	log_kvb(&l, "qid", qid, len);
	if (m)
		log_kvu(&l, "n", sched_flush_msg(m));
	else
		log_kv(&l, "status", "no_such_message");
	log_end(&l);
}

static void trigger_line(const char *line, size_t len)
{
	if (qid_valid(line, len))
		msg_load(line, len);
	else if (len == 5 && memcmp(line, "flush", 5) == 0)
		want_flush = 1;
	else if (len > 6 && memcmp(line, "flush ", 6) == 0 && qid_valid(line + 6, len - 6))
		flush_one(line + 6, len - 6);
	else if (len == 6 && memcmp(line, "cancel", 6) == 0)
		want_cancel = 1;
	else
		need_scan = 1; /* not a queue id: look for ourselves */
}

static void trigger_open(void)
{
	/* the new reader first, so a writer never finds the FIFO without one */
	int fd = openat(AT_FDCWD, "lock/trigger", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (trig != -1)
		close(trig);
	trig = fd;
	if (trig == -1) {
		warn_sys("warning: unable to open queue/lock/trigger, scanning instead");
		return;
	}
	if (trig_w == -1)
		trig_w = openat(AT_FDCWD, "lock/trigger", O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	tlen = 0;
	tskip = 0;
}

static void trigger_read(void)
{
	char buf[4096];
	for (;;) {
		ssize_t r = read(trig, buf, sizeof buf);
		ssize_t i;
		if (r == -1) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN) {
				warn_sys("warning: unable to read queue/lock/trigger");
				need_scan = 1;
				trigger_open();
			}
			return;
		}
		if (r == 0) { /* the last writer left and we hold no dummy one */
			trigger_open();
			return;
		}
		for (i = 0; i < r; i++) {
			char c = buf[i];
			if (c == '\n') {
				if (!tskip)
					trigger_line(tbuf, tlen);
				tlen = 0;
				tskip = 0;
			} else if (tskip) {
			} else if (tlen == sizeof tbuf) {
				tskip = 1;
				need_scan = 1;
			} else
				tbuf[tlen++] = c;
		}
	}
}

/* Reads every frame already waiting on postern-rspawn's pipe. */
static void read_rframes(struct io *in)
{
	struct str f = STR_INIT;
	do {
		int r = ns_read(in, &f, 65536);
		if (r == 0)
			die(111, "fatal: postern-rspawn went away");
		if (r < 0)
			die_sys(111, "fatal: bad frame from postern-rspawn");
		tick();
		rsched_result(&f);
	} while (io_buffered(in));
	str_free(&f);
}

/* Reads every frame already waiting on a result pipe. */
static void read_frames(struct io *in, const char *peer, size_t max, size_t nfields, int lspawn)
{
	struct str f = STR_INIT;
	do {
		const char *fld[3];
		size_t fl[3];
		int r = ns_read(in, &f, max);
		if (r == 0)
			die(111, "fatal: ", peer, " went away");
		if (r < 0)
			die_sys(111, "fatal: bad frame from ", peer);
		if (!ns_fields(&f, fld, fl, nfields) || fl[1] != 1)
			die(111, "fatal: malformed frame from ", peer);
		tick();
		if (lspawn)
			sched_result(fld[0], fl[0], fld[1][0], fld[2], fl[2]);
		else
			clean_result(fld[0], fl[0], fld[1][0]);
	} while (io_buffered(in));
	str_free(&f);
}

int main(int argc, char **argv)
{
	static char lbuf[4096], cbuf[4096], rbuf[16384];
	struct io lres, cres, rres;
	unsigned long long next_scan;
	int fd;

	progname = "postern-send";
	if (argc > 1)
		die_usage(USAGE);
	/* no core file, and no ptrace by a process of its own user:
	 * postern-dkimsign, which it starts for bounces and which parses
	 * what a stranger wrote, must not take over the one process that
	 * hands work to postern-lspawn, which runs as root */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		die_sys(111, "fatal: unable to make myself undumpable");
	/* the lines of one round of the loop (a delivery's result and the
	 * message's end, say) reach the log in one write: log_flush() before
	 * each hand-off to lspawn, rspawn or clean and before poll */
	log_hold();
	(void)argv;
	for (fd = FD_LSPAWN_REQ; fd <= FD_RSPAWN_RES; fd++)
		if (fcntl(fd, F_SETFD, FD_CLOEXEC) == -1)
			die_sys(111, "fatal: missing the pipes from postern-start");
	/* SIGHUP: reread the control files; SIGALRM: postern-qctl flush.
	 * Caught first: postern-start passes them on from our start, and
	 * one_scheduler may wait a long time for an older postern-send. */
	if ((sigfd = selfpipe_init(SELFPIPE_HUP | SELFPIPE_ALRM)) == -1)
		die_sys(111, "fatal: unable to catch signals");
	if (chdir(home_dir()) == -1 || chdir("queue") == -1)
		die_sys(111, "fatal: unable to enter the queue");
	one_scheduler();
	umask(077);
	if (load_settings(&set) == -1)
		die_sys(111, "fatal: unable to read the control files");
	io_init(&lres, FD_LSPAWN_RES, lbuf, sizeof lbuf);
	io_init(&cres, FD_CLEAN_RES, cbuf, sizeof cbuf);
	io_init(&rres, FD_RSPAWN_RES, rbuf, sizeof rbuf);

	/* Open the trigger before the scan: a message committed during the
	 * scan is then either seen by it or announced on the trigger. */
	trigger_open();
	tick();
	infopool_init();
	cancel_scan(); /* the requests first: each message is given up as it loads */
	scan_mess();
	drop_orphan_info();
	next_scan = now + RESCAN_INTERVAL;
	sched_dispatch();
	clean_flush();
	log_flush();
	if (fcntl(FD_READY, F_GETFD) != -1) {
		if (write(FD_READY, "\n", 1) != 1)
			warn_sys("warning: unable to signal readiness");
		close(FD_READY);
	}

	for (;;) {
		struct pollfd p[5];
		unsigned long long due;
		long long wait_s;
		int n = 0, r, ti = -1;

		if (selfpipe_term && !sched_inflight() && !clean_outstanding())
			break;
		p[n++] = (struct pollfd){ sigfd, POLLIN, 0 };
		p[n++] = (struct pollfd){ FD_LSPAWN_RES, POLLIN, 0 };
		p[n++] = (struct pollfd){ FD_CLEAN_RES, POLLIN, 0 };
		p[n++] = (struct pollfd){ FD_RSPAWN_RES, POLLIN, 0 };
		if (trig != -1 && !selfpipe_term) {
			ti = n;
			p[n++] = (struct pollfd){ trig, POLLIN, 0 };
		}
		tick();
		due = sched_next_due();
		if (next_scan > now + RESCAN_INTERVAL)
			next_scan = now + RESCAN_INTERVAL; /* the clock went back */
		wait_s = (long long)(next_scan > now ? next_scan - now : 0);
		if (due && (long long)(due > now ? due - now : 0) < wait_s)
			wait_s = (long long)(due > now ? due - now : 0);
		if (selfpipe_term)
			wait_s = 1;
		/* the retry times are the wall clock's (they are kept in info/
		 * across restarts): after a jump back by weeks, wait_s * 1000
		 * would not fit poll's int, and a negative timeout waits for
		 * ever; an hour at most, and the times are looked at again */
		if (wait_s > 3600)
			wait_s = 3600;
		log_flush();
		r = poll(p, (nfds_t)n, (int)(wait_s * 1000 + (wait_s ? 0 : 100)));
		if (r == -1 && errno != EINTR)
			die_sys(111, "fatal: poll failed");
		tick();
		if (r > 0) {
			if (p[0].revents) {
				selfpipe_drain();
			}
			if (p[1].revents)
				read_frames(&lres, "postern-lspawn", 4096, 3, 1);
			if (p[2].revents)
				read_frames(&cres, "postern-clean", 256, 2, 0);
			if (p[3].revents)
				read_rframes(&rres);
			if (ti >= 0 && p[ti].revents)
				trigger_read();
		}
		if (selfpipe_hup) {
			struct settings fresh_set;
			size_t broken;
			selfpipe_hup = 0;
			/* the messages left alone for a person: looked at again */
			if ((broken = msg_forget_broken())) {
				struct logline bl = { STR_INIT };
				log_begin(&bl, "rescan_left_alone");
				log_kvu(&bl, "n", broken);
				log_end(&bl);
				need_scan = 1;
			}
			memset(&fresh_set, 0, sizeof fresh_set);
			if (load_settings(&fresh_set) == -1) {
				warn_sys("warning: unable to reread the control files, keeping the old settings");
				srs_conf_free(&fresh_set.srs);
			} else {
				srs_conf_free(&set.srs);
				str_free(&set.me);
				str_free(&set.doublebounceto);
				str_free(&set.rc.locals);
				str_free(&set.rc.virtuals);
				str_free(&set.rc.seps);
				set = fresh_set;
			}
			want_cancel = 1;
		}
		if (selfpipe_alrm || want_flush) {
			struct logline fl = { STR_INIT };
			selfpipe_alrm = 0;
			want_flush = 0;
			log_begin(&fl, "flush");
			log_kvu(&fl, "n", sched_flush());
			log_end(&fl);
		}
		if (selfpipe_term)
			continue; /* finish what runs, start nothing */
		/* the requests read again at every scan too: a "cancel" lost
		 * on the trigger costs at most the time to the next */
		if (want_cancel || need_scan || now >= next_scan) {
			want_cancel = 0;
			cancel_scan();
		}
		if (need_scan || now >= next_scan) {
			need_scan = 0;
			if (trig == -1)
				trigger_open();
			scan_mess();
			next_scan = now + RESCAN_INTERVAL;
		}
		sched_dispatch();
		clean_flush();
	}
	log_flush();
	return 0;
}
