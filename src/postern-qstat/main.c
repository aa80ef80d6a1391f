/* postern-qstat (mailq): lists the queue.  For each committed message
 * (queue/mess/ID.env): id, arrival time, size, sender, and each recipient
 * with what postern-send's state file says of it (doc/postern-qstat.8).
 * Needs to read the queue: root or a member of group postern. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "qstat.h"
#include "date822.h"
#include "die.h"
#include "envelope.h"
#include "esmtpdsn.h"
#include "file.h"
#include "home.h"
#include "infostate.h"
#include "io.h"
#include "uniq.h"

#define ENV_FILE_MAX (17UL * 1024 * 1024) /* postern-queue stores at most 16 MB */
#define INFO_MAX (16UL * 1024 * 1024)

static char obuf[65536];
static struct io out;

static void put(const struct str *s)
{
	if (io_put(&out, s->s, s->len) == -1)
		die_sys(111, "fatal: unable to write output");
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The committed ids: names ID.env with a valid ID, sorted (oldest first). */
static char **ids_list(size_t *count)
{
	char **ids = 0;
	size_t n = 0, cap = 0;
	struct dirent *e;
	DIR *d = opendir("mess");

	if (!d) {
		if (errno == EACCES)
			die(111, "fatal: cannot read the queue: run as root or as a member of group postern");
		die_sys(111, "fatal: unable to open queue/mess");
	}
	for (;;) {
		size_t len;
		errno = 0;
		e = readdir(d);
		if (!e) {
			if (errno)
				die_sys(111, "fatal: unable to read queue/mess");
			break;
		}
		len = strlen(e->d_name);
		if (len < 5 || strcmp(e->d_name + len - 4, ".env") != 0 || !qid_valid(e->d_name, len - 4))
			continue;
		if (n == cap) {
			char **m;
			cap = cap ? cap * 2 : 64;
			m = reallocarray(ids, cap, sizeof *ids);
			if (!m)
				die_nomem();
			ids = m;
		}
		ids[n] = strndup(e->d_name, len - 4);
		if (!ids[n])
			die_nomem();
		n++;
	}
	closedir(d);
	if (n)
		qsort(ids, n, sizeof *ids, by_name);
	*count = n;
	return ids;
}

/* What the client asked of DSN (doc/dsn.md), when it asked anything, so
 * that the admin sees why a sender was or was not told: " (ret HDRS,
 * envid X)" after the sender, " (notify NEVER, orcpt rfc822;X)" after a
 * recipient.  The values are checked printable ASCII (envelope_parse). */
static int dsn_cat(struct str *line, const char *const *key, const char *const *val, const size_t *len)
{
	int k, first = 1;

	for (k = 0; k < 2; k++) {
		if (!len[k])
			continue;
		if (!str_cats(line, first ? " (" : ", ") || !str_cats(line, key[k]) || !str_catc(line, ' ') ||
		    !cat_safe(line, val[k], len[k]))
			return 0;
		first = 0;
	}
	return first || str_catc(line, ')');
}

static int dsn_mail_cat(struct str *line, const struct envelope *e)
{
	const char *key[2] = { "ret", "envid" };
	const char *val[2] = { e->ret == DSN_RET_FULL ? "FULL" : "HDRS", e->envid };
	size_t len[2] = { e->ret ? 4 : 0, e->envid_len };

	return dsn_cat(line, key, val, len);
}

static int dsn_rcpt_cat(struct str *line, const struct envelope *e, size_t i)
{
	const char *key[2] = { "notify", "orcpt" };
	const char *val[2];
	size_t len[2];
	struct str notify = STR_INIT;
	int ok;

	len[1] = envelope_orcpt(e, i, &val[1]);
	if (e->notify && e->notify[i] && !dsn_notify_cat(&notify, e->notify[i]))
		return 0;
	val[0] = notify.s;
	len[0] = notify.len;
	ok = dsn_cat(line, key, val, len);
	str_free(&notify);
	return ok;
}

/* 1 shown, 0 gone meanwhile (delivered and removed while we looked). */
static int show(const char *id)
{
	struct str path = STR_INIT, env = STR_INIT, info = STR_INIT, line = STR_INIT;
	struct envelope e;
	struct rstate *rs;
	struct stat st;
	int have_info, r, bounced = 0;
	size_t i;

	if (!str_copys(&path, "mess/") || !str_cats(&path, id) || !str_cats(&path, ".env"))
		die_nomem();
	r = read_file(path.s, &env, ENV_FILE_MAX);
	if (r == 0)
		return 0;
	if (r == -1)
		die_sys(111, "fatal: unable to read queue/", path.s);
	str_truncate(&path, path.len - 4);
	if (stat(path.s, &st) == -1) {
		if (errno == ENOENT)
			return 0;
		die_sys(111, "fatal: unable to stat queue/", path.s);
	}
	if (!str_cats(&line, id) || !str_catc(&line, ' ') || !date822_cat(&line, (time_t)qid_time(id, strlen(id))) ||
	    !str_catc(&line, ' ') || !str_catu(&line, (unsigned long long)st.st_size) || !str_cats(&line, " bytes\n"))
		die_nomem();
	if (envelope_parse(&e, env.s, env.len) != ENV_OK) {
		if (!str_cats(&line, "  envelope unreadable (malformed)\n"))
			die_nomem();
		put(&line);
		str_free(&line);
		str_free(&env);
		str_free(&path);
		return 1;
	}
	if (!str_cats(&line, "  from <") || !cat_safe(&line, e.sender, e.sender_len) || !str_catc(&line, '>') ||
	    !dsn_mail_cat(&line, &e) || (e.forwarded && !str_cats(&line, " (forwarded)")) || !str_catc(&line, '\n'))
		die_nomem();

	rs = calloc(e.nrcpt, sizeof *rs);
	if (!rs)
		die_nomem();
	if (!str_copys(&path, "info/") || !str_cats(&path, id))
		die_nomem();
	r = read_file(path.s, &info, INFO_MAX);
	have_info = r == 1 || (r == 0); /* absent: nothing tried yet, all pending */
	if (r == 1)
		(void)state_parse(info.s, info.len, rs, e.nrcpt, &bounced); /* malformed lines: as postern-send, skipped */
	for (i = 0; i < e.nrcpt; i++) {
		if (!str_cats(&line, "  to <") || !cat_safe(&line, e.rcpt[i], e.rcpt_len[i]) || !str_catc(&line, '>'))
			die_nomem();
		if (have_info) {
			int ok = 1;
			if (rs[i].st == RS_DONE || rs[i].st == RS_RELAYED || rs[i].st == RS_HANDED || rs[i].st == RS_EXPANDED)
				ok = str_cats(&line, " delivered");
			else if (rs[i].st == RS_FAILED)
				ok = str_cats(&line, " failed: ") && cat_safe(&line, rs[i].why, rs[i].why_len);
			else {
				ok = str_cats(&line, " pending");
				if (ok && rs[i].attempts)
					ok = str_cats(&line, ", ") && str_catu(&line, rs[i].attempts) &&
					     str_cats(&line, " tries, next ") && date822_cat(&line, (time_t)rs[i].next) &&
					     (!rs[i].why_len || (str_cats(&line, ": ") && cat_safe(&line, rs[i].why, rs[i].why_len)));
			}
			if (!ok)
				die_nomem();
		}
		if (!dsn_rcpt_cat(&line, &e, i) || !str_catc(&line, '\n'))
			die_nomem();
	}
	put(&line);
	free(rs);
	envelope_free(&e);
	str_free(&line);
	str_free(&info);
	str_free(&env);
	str_free(&path);
	return 1;
}

int main(int argc, char **argv)
{
	struct str q = STR_INIT, s = STR_INIT;
	char **ids;
	size_t n, i, shown = 0;

	progname = "postern-qstat";
	(void)argv;
	if (argc > 1)
		die_usage("postern-qstat");
	io_init(&out, 1, obuf, sizeof obuf);
	if (!home_path(&q, "queue"))
		die_nomem();
	if (chdir(q.s) == -1) {
		if (errno == EACCES)
			die(111, "fatal: cannot read the queue: run as root or as a member of group postern");
		die_sys(111, "fatal: unable to enter ", q.s);
	}
	ids = ids_list(&n);
	for (i = 0; i < n; i++) {
		shown += (size_t)show(ids[i]);
		free(ids[i]);
	}
	free(ids);
	if (!str_catu(&s, shown) || !str_cats(&s, shown == 1 ? " message in the queue\n" : " messages in the queue\n"))
		die_nomem();
	put(&s);
	if (io_flush(&out) == -1)
		die_sys(111, "fatal: unable to write output");
	str_free(&s);
	str_free(&q);
	return 0;
}
