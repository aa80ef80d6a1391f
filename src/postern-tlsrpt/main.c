/* postern-tlsrpt: mails each domain that asks for them (RFC 8460) the
 * day's TLS reports built from the records postern-remote keeps in
 * HOME/queue/tlsrpt/ (doc/tlsrpt.md, postern-tlsrpt(8)).
 *
 * usage: postern-tlsrpt [-1 [-a]]
 *
 * Runs as postern-remote, under s6: the records are postern-remote's, and
 * this holds no secret; never as root.  Without an argument it reports
 * every complete day at its start, then once a day, a random 5 to 65
 * minutes after 00:00 UTC (RFC 8460 4.1: spread, not all at midnight);
 * with -1 it reports once and exits, and with -a then today's records
 * too, up to this second.  control/me and control/tlsrpt are read again
 * each round; with no organization in control/tlsrpt it reports nothing.
 *
 * Exit codes (-1): 0 done; 111 temporary trouble (a report to be tried
 * again, a control file unreadable, no memory); 100 usage. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "reporter.h"
#include "control.h"
#include "die.h"
#include "file.h"
#include "home.h"
#include "log.h"
#include "rand.h"
#include "seconds.h"

#define USAGE "postern-tlsrpt [-1 [-a]]"

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* YYYYMMDD of t, UTC */
static void day_of(time_t t, char out[9])
{
	struct tm tm;
	unsigned v[3], w[3] = { 4, 2, 2 };
	size_t i, k, at = 0;

	if (!gmtime_r(&t, &tm))
		die(111, "fatal: the clock is out of range");
	v[0] = (unsigned)tm.tm_year + 1900;
	v[1] = (unsigned)tm.tm_mon + 1;
	v[2] = (unsigned)tm.tm_mday;
	for (i = 0; i < 3; i++) {
		for (k = w[i]; k > 0; k--) {
			out[at + k - 1] = (char)('0' + v[i] % 10);
			v[i] /= 10;
		}
		at += w[i];
	}
	out[8] = 0;
}

/* One round: 0, or 111 when something is left to try again. */
static int round_once(int today_too)
{
	static struct str me, lines;
	static struct tlsrpt_conf conf;
	struct run run;
	struct logline l = { STR_INIT };
	struct str names = STR_INIT;
	char today[9], *list[DAYS_MAX];
	size_t n = 0, i, k;
	int lock, r;
	DIR *d;
	struct dirent *e;

	if ((r = control_line("me", &me)) == -1) {
		warn_sys("warning: unable to read control/me");
		return 111;
	}
	if (r == 0 || !tlsrpt_host_ok(me.s, me.len, 0)) {
		warn("warning: control/me is ", r ? "no host name" : "missing", ": no reports");
		return 111;
	}
	for (i = 0; i < me.len; i++)
		me.s[i] = (char)(me.s[i] >= 'A' && me.s[i] <= 'Z' ? me.s[i] + 32 : me.s[i]);
	if (control_lines("tlsrpt", &lines) == -1) {
		warn_sys("warning: unable to read control/tlsrpt");
		return 111;
	}
	if ((r = tlsrpt_conf(&lines, me.s, &conf)) == -1)
		die_nomem();
	if (conf.bad) {
		log_begin(&l, "config");
		log_kv(&l, "file", "control/tlsrpt");
		log_kvu(&l, "bad_lines", conf.bad);
		log_kv(&l, "first", conf.bad_name);
		log_end(&l);
	}
	if (r == 0) {
		log_begin(&l, "run");
		log_kv(&l, "reporting", "off");
		log_end(&l);
		return 0;
	}
	memset(&run, 0, sizeof run);
	run.conf = &conf;
	run.me = me.s;
	run.now = time(0);
	run.today_too = today_too;
	day_of(run.now, today);
	/* one round at a time: an admin's -1 waits for the service's */
	if ((lock = dir_lock("queue/tlsrpt")) == -1) {
		if (errno == ENOENT)
			goto done; /* postern-remote has recorded nothing yet */
		warn_sys("warning: unable to lock queue/tlsrpt");
		return 111;
	}
	if (!(d = opendir("queue/tlsrpt"))) {
		warn_sys("warning: unable to read queue/tlsrpt");
		close(lock);
		return 111;
	}
	while ((e = readdir(d)) && n < DAYS_MAX) {
		for (k = 0; k < 8 && e->d_name[k] >= '0' && e->d_name[k] <= '9'; k++)
			;
		if (k != 8 || e->d_name[8])
			continue;
		r = strcmp(e->d_name, today);
		if (r > 0 || (r == 0 && !today_too))
			continue; /* today's is still being written */
		if (!str_cats(&names, e->d_name) || !str_catz(&names))
			die_nomem();
		n++;
	}
	closedir(d);
	for (i = 0, k = 0; i < n; i++, k += 9)
		list[i] = names.s + k;
	qsort(list, n, sizeof *list, cmp);
	for (i = 0; i < n; i++)
		day_report(&run, list[i], !strcmp(list[i], today));
	close(lock);
done:
	log_begin(&l, "run");
	log_kvu(&l, "days", n);
	log_kvu(&l, "reports", run.reports);
	log_kvu(&l, "dropped", run.dropped);
	log_kvu(&l, "kept", run.kept);
	log_kvu(&l, "skipped_lines", run.skipped);
	log_end(&l);
	str_free(&names);
	return run.kept ? 111 : 0;
}

/* until a random 5 to 65 minutes after the next 00:00 UTC */
static void sleep_to_next_round(void)
{
	time_t now = time(0), at = now - now % 86400 + 86400 + 300 + (time_t)rand_uniform(3601);

	while ((now = time(0)) < at) {
		struct timespec ts = { at - now, 0 };
		if (nanosleep(&ts, 0) == -1 && errno != EINTR)
			die_sys(111, "fatal: unable to sleep");
	}
}

int main(int argc, char **argv)
{
	int once = 0, today_too = 0, i;

	progname = "postern-tlsrpt";
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-1"))
			once = 1;
		else if (!strcmp(argv[i], "-a"))
			today_too = 1;
		else
			die_usage(USAGE);
	}
	if (today_too && !once)
		die_usage(USAGE);
	if (getuid() == 0 || geteuid() == 0)
		die(111, "fatal: refusing to run as root: run me as postern-remote");
	if (chdir(home_dir()) == -1)
		die_sys(111, "fatal: unable to enter ", home_dir());
	if (once)
		return round_once(today_too);
	for (;;) {
		(void)round_once(0);
		sleep_to_next_round();
	}
}
