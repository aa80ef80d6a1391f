/* One day's reports (doc/tlsrpt.md, "The report", steps 1 to 5): for each
 * r.DOMAIN of queue/tlsrpt/DAY, its records read, its TLSRPT record
 * looked up, the report built and handed to postern-queue; a domain is
 * done when postern-queue took its report or there is none to send, and
 * then its files go; the directory goes with the last of them.  A report
 * that could not be sent (no DNS answer, postern-queue's temporary
 * refusal) is tried again at the next run while its day is at most
 * RETRY_DAYS old. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "reporter.h"
#include "die.h"
#include "fmt.h"
#include "log.h"
#include "rand.h"

struct loader {
	int dirfd;
	const char *domain;
};

static int load_policy(void *ctx, const char *hash, struct str *text)
{
	struct loader *l = ctx;
	struct str name = STR_INIT;
	int cut, r;

	if (!str_cats(&name, "p.") || !str_cats(&name, l->domain) || !str_catc(&name, '.') || !str_cats(&name, hash) ||
	    !str_catz(&name))
		die_nomem();
	r = read_hostile(l->dirfd, name.s, text, P_FILE_MAX, &cut);
	if (r == -1)
		warn_sys("warning: unable to read ", name.s);
	str_free(&name);
	return r == 1 && !cut;
}

/* a p. file of domain: p.DOMAIN.HASH, or its temporary p.DOMAIN.HASH.tmp.PID */
static int policy_file_of(const char *name, const char *domain)
{
	size_t dl = strlen(domain), i;

	if (strncmp(name, "p.", 2) || strncmp(name + 2, domain, dl) || name[2 + dl] != '.')
		return 0;
	name += 3 + dl;
	for (i = 0; i < 16; i++)
		if (scan_hexdigit(name[i]) < 0)
			return 0;
	return name[16] == 0 || !strncmp(name + 16, ".tmp.", 5);
}

/* unlinks r.DOMAIN, then its p. files (a crash between leaves p. files
 * that the day's last sweep removes) */
static void forget_domain(int dirfd, const char *day, const char *rname, const char *domain)
{
	DIR *d;
	struct dirent *e;
	int fd;

	if (unlinkat(dirfd, rname, 0) == -1 && errno != ENOENT) {
		warn_sys("warning: unable to remove queue/tlsrpt/", day, "/", rname);
		return;
	}
	if ((fd = dup(dirfd)) == -1 || !(d = fdopendir(fd))) {
		if (fd != -1)
			close(fd);
		warn_sys("warning: unable to read queue/tlsrpt/", day);
		return;
	}
	rewinddir(d);
	while ((e = readdir(d)))
		if (policy_file_of(e->d_name, domain) && unlinkat(dirfd, e->d_name, 0) == -1 && errno != ENOENT)
			warn_sys("warning: unable to remove queue/tlsrpt/", day, "/", e->d_name);
	closedir(d);
}

static void token(char out[33])
{
	unsigned char b[16];
	size_t i;
	if (!rand_bytes(b, sizeof b))
		die_sys(111, "fatal: unable to get random bytes");
	for (i = 0; i < 16; i++)
		fmt_hexbyte(out + 2 * i, b[i]);
	out[32] = 0;
}

/* 1 done (its files may go), 0 to be tried again */
static int domain_report(struct run *run, int dirfd, const char *day, const char *domain, int today, int old)
{
	struct loader ld = { dirfd, domain };
	struct report *rep = malloc(sizeof *rep);
	struct str file = STR_INIT, json = STR_INIT, msg = STR_INIT, to = STR_INIT, rname = STR_INIT;
	struct meta m;
	struct logline l = { STR_INIT };
	const char *status, *why = 0;
	size_t pos = 0, nto = 0, https = 0, i;
	int cut = 0, done = 1, r;
	char tok[33];

	if (!rep || !str_cats(&rname, "r.") || !str_cats(&rname, domain))
		die_nomem();
	report_init(rep, load_policy, &ld);
	memset(&m, 0, sizeof m);
	m.org = run->conf->org.s;
	m.contact = run->conf->contact.s;
	m.domain = domain;
	m.me = run->me;
	if (!meta_day(&m, day, today ? run->now : 0))
		die(111, "fatal: bug: a day name meta_day refuses: ", day);
	r = read_hostile(dirfd, rname.s, &file, R_FILE_MAX, &cut);
	if (r != 1) {
		int e = errno;
		status = r == 0 ? "gone" : "bad_file";
		if (r == -1)
			warn_sys("warning: unable to read queue/tlsrpt/", day, "/", rname.s);
		done = r == 0 || e == EINVAL || e == ELOOP; /* not a regular file: never one */
		goto out;
	}
	while (pos < file.len) { /* a last line without its LF was cut short: skipped */
		const char *nl = memchr(file.s + pos, '\n', file.len - pos);
		size_t end = nl ? (size_t)(nl - file.s) : file.len;
		if (nl)
			report_line(rep, file.s + pos, end - pos);
		else {
			rep->lines++;
			rep->skipped++;
			if (!rep->why)
				rep->why = "no line end";
		}
		pos = end + 1;
	}
	run->skipped += rep->skipped;
	if (!report_sessions(rep)) {
		status = "empty";
		goto out;
	}
	switch (rua_lookup(domain, &to, &nto, &https, &why)) {
	case RUA_NO_RECORD: status = "no_record"; goto out;
	case RUA_NO_MAILTO: status = "no_mailto"; goto out;
	case RUA_DNS_ERROR:
		status = old ? "dns_error_dropped" : "dns_error";
		done = old;
		goto out;
	case RUA_FOUND: break;
	}
	token(tok);
	if (!report_json(&json, rep, &m) ||
	    !report_message(&msg, &m, run->conf->from.s, &to, nto, rep, &json, run->now, tok))
		die_nomem();
	r = queue_report(&msg, &to, nto);
	if (r == 0) {
		status = "queued";
		run->reports++;
	} else {
		char code[FMT_ULONG + 1];
		/* 11, 31, 91: postern-queue refuses it for good */
		done = old || r == 11 || r == 31 || r == 91;
		status = done ? "queue_refused" : "queue_error";
		code[fmt_ulong(code, r < 0 ? 999 : (unsigned long long)r)] = 0;
		warn("warning: postern-queue refused the report for ", domain, ", exit ", code);
	}
out:
	log_begin(&l, "report");
	log_kv(&l, "day", day);
	log_kv(&l, "domain", domain);
	for (i = 0, r = 0; i < rep->np; i++)
		r += rep->p[i].slot != 0;
	log_kvu(&l, "policies", (unsigned long long)r);
	log_kvu(&l, "sessions", report_sessions(rep));
	log_kvu(&l, "failures", report_failures(rep));
	if (rep->skipped || rep->cut) {
		log_kvu(&l, "skipped", rep->skipped + rep->cut);
		log_kv(&l, "why", rep->cut && !rep->skipped ? "too many policies" : rep->why);
	}
	if (cut)
		log_kv(&l, "file", "cut at 16 MB");
	if (nto) {
		for (i = 0; i < to.len; i++)
			if (!to.s[i] && i + 1 < to.len)
				to.s[i] = ',';
		log_kv(&l, "to", to.s);
	}
	if (https)
		log_kvu(&l, "https_left_out", https);
	log_kv(&l, "status", status);
	if (why && strcmp(status, "queued"))
		log_kv(&l, "reason", why);
	log_end(&l);
	if (done)
		forget_domain(dirfd, day, rname.s, domain);
	if (done && strcmp(status, "queued"))
		run->dropped++;
	if (!done)
		run->kept++;
	report_free(rep);
	free(rep);
	str_free(&file);
	str_free(&json);
	str_free(&msg);
	str_free(&to);
	str_free(&rname);
	return done;
}

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* once every domain is done: whatever is left (p. files of a crash, a
 * temporary file of a postern-remote that died) goes, then the directory;
 * today's (-a) keeps what postern-remote may still be writing */
static void sweep(int dirfd, const char *day, int today)
{
	DIR *d;
	struct dirent *e;
	struct str path = STR_INIT;
	int fd = dup(dirfd);

	if (fd == -1 || !(d = fdopendir(fd))) {
		if (fd != -1)
			close(fd);
		warn_sys("warning: unable to read queue/tlsrpt/", day);
		return;
	}
	while (!today && (e = readdir(d)))
		if (e->d_name[0] != '.' && unlinkat(dirfd, e->d_name, 0) == -1 && errno != ENOENT)
			warn_sys("warning: unable to remove queue/tlsrpt/", day, "/", e->d_name);
	closedir(d);
	if (!str_cats(&path, "queue/tlsrpt/") || !str_cats(&path, day))
		die_nomem();
	if (rmdir(path.s) == -1 && errno != ENOTEMPTY && errno != EEXIST && errno != ENOENT)
		warn_sys("warning: unable to remove ", path.s);
	str_free(&path);
}

void day_report(struct run *run, const char *day, int today)
{
	struct str path = STR_INIT, names = STR_INIT;
	char **list = 0;
	size_t n = 0, i, k;
	int dirfd, all = 1, old;
	DIR *d;
	struct dirent *e;
	struct meta m;

	memset(&m, 0, sizeof m);
	m.domain = m.me = "";
	if (!meta_day(&m, day, 0))
		return;
	old = run->now - m.begin >= (time_t)(RETRY_DAYS + 1) * 86400;
	if (!str_cats(&path, "queue/tlsrpt/") || !str_cats(&path, day))
		die_nomem();
	dirfd = openat(AT_FDCWD, path.s, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dirfd == -1) {
		warn_sys("warning: unable to open ", path.s);
		str_free(&path);
		return;
	}
	if ((k = (size_t)dup(dirfd)) == (size_t)-1 || !(d = fdopendir((int)k)))
		die_sys(111, "fatal: unable to read ", path.s);
	while ((e = readdir(d)) && n < DOMAINS_MAX) {
		const char *dom = e->d_name + 2;
		if (strncmp(e->d_name, "r.", 2) || !tlsrpt_host_ok(dom, strlen(dom), 1))
			continue;
		if (!str_cats(&names, dom) || !str_catz(&names))
			die_nomem();
		n++;
	}
	if (e)
		all = 0; /* more than DOMAINS_MAX: the rest at the next run */
	closedir(d);
	if (n && !(list = malloc(n * sizeof *list)))
		die_nomem();
	for (i = 0, k = 0; i < n; i++, k += strlen(names.s + k) + 1)
		list[i] = names.s + k;
	if (n)
		qsort(list, n, sizeof *list, cmp);
	for (i = 0; i < n; i++)
		if (!domain_report(run, dirfd, day, list[i], today, old))
			all = 0;
	if (all)
		sweep(dirfd, day, today);
	close(dirfd);
	free(list);
	str_free(&names);
	str_free(&path);
}
