/* The scheduler proper: messages, the fresh queue, the retry heap, the
 * deliveries running at postern-lspawn and the requests to postern-clean. */
#include <dirent.h>
#include <errno.h>
#include <pwd.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "send.h"
#include "state.h"
#include "die.h"
#include "file.h"
#include "fmt.h"
#include "io.h"
#include "log.h"
#include "netstring.h"

struct job {
	struct msg *m;
	size_t i;
	unsigned long long when; /* heap key */
};

#define HASH_SIZE 65536
static struct msg *table[HASH_SIZE];

static struct job *fresh;     /* ring buffer */
static size_t fresh_cap, fresh_head, fresh_len;
static struct job *heap;
static size_t heap_len, heap_cap;

struct running {
	unsigned long long id;
	struct msg *m;
	size_t i;
};
static struct running run[CONC_MAX];
static size_t nrun;
static unsigned long long next_job = 1;

static struct msg *cleanq_head, *cleanq_tail;
static size_t cleaning;

static unsigned hash(const char *s, size_t n)
{
	unsigned h = 2166136261u;
	while (n--)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h % HASH_SIZE;
}

struct msg *msg_find(const char *qid, size_t len)
{
	struct msg *m;
	for (m = table[hash(qid, len)]; m; m = m->hnext)
		if (m->qidlen == len && memcmp(m->qid, qid, len) == 0)
			return m;
	return 0;
}

static void fresh_push(struct msg *m, size_t i)
{
	if (fresh_len == fresh_cap) {
		size_t ncap = fresh_cap ? fresh_cap * 2 : 1024, k;
		struct job *n;
		if (ncap > SIZE_MAX / sizeof *n || !(n = malloc(ncap * sizeof *n)))
			die_nomem();
		for (k = 0; k < fresh_len; k++)
			n[k] = fresh[(fresh_head + k) % fresh_cap];
		free(fresh);
		fresh = n;
		fresh_cap = ncap;
		fresh_head = 0;
	}
	fresh[(fresh_head + fresh_len) % fresh_cap] = (struct job){ m, i, 0 };
	fresh_len++;
}

static void heap_push(struct msg *m, size_t i, unsigned long long when)
{
	size_t k;
	if (heap_len == heap_cap) {
		size_t ncap = heap_cap ? heap_cap * 2 : 1024;
		struct job *n;
		if (ncap > SIZE_MAX / sizeof *n || !(n = realloc(heap, ncap * sizeof *n)))
			die_nomem();
		heap = n;
		heap_cap = ncap;
	}
	k = heap_len++;
	while (k > 0 && heap[(k - 1) / 2].when > when) {
		heap[k] = heap[(k - 1) / 2];
		k = (k - 1) / 2;
	}
	heap[k] = (struct job){ m, i, when };
}

static struct job heap_pop(void)
{
	struct job top = heap[0], last = heap[--heap_len];
	size_t k = 0;
	for (;;) {
		size_t c = 2 * k + 1;
		if (c >= heap_len)
			break;
		if (c + 1 < heap_len && heap[c + 1].when < heap[c].when)
			c++;
		if (heap[c].when >= last.when)
			break;
		heap[k] = heap[c];
		k = c;
	}
	if (heap_len)
		heap[k] = last;
	return top;
}

unsigned long long sched_next_due(void) { return heap_len ? (heap[0].when ? heap[0].when : 1) : 0; }
size_t sched_inflight(void) { return nrun; }
size_t clean_outstanding(void) { return cleaning; }

int record(struct msg *m, const struct str *line)
{
	char path[6 + QID_MAX + 1];
	int fd;

	memcpy(path, "info/", 5);
	memcpy(path + 5, m->qid, m->qidlen + 1);
	fd = open_append(path, 0600);
	/* No fsync: losing a record to a power cut can only cause a second
	 * delivery or bounce, never a lost message (doc/queue.md). */
	if (fd == -1 || write_all(fd, line->s, line->len) == -1) {
		warn_sys("warning: unable to record state in ", path);
		if (fd != -1)
			close(fd);
		return 0;
	}
	if (close(fd) == -1) {
		warn_sys("warning: unable to record state in ", path);
		return 0;
	}
	return 1;
}

static void log_delivery(struct msg *m, size_t i, const char *status, const char *why, size_t wl)
{
	struct logline l = { STR_INIT };
	log_begin(&l, "delivery");
	log_kvb(&l, "qid", m->qid, m->qidlen);
	log_kvb(&l, "to", m->env.rcpt[i], m->env.rcpt_len[i]);
	log_kv(&l, "status", status);
	log_kvu(&l, "delay", now > m->arrival ? now - m->arrival : 0);
	log_kvb(&l, "reason", why, wl);
	log_end(&l);
}

static void rcpt_done(struct msg *m, size_t i, const char *why, size_t wl)
{
	struct str line = STR_INIT;
	if (!state_line_K(&line, i))
		die_nomem();
	record(m, &line);
	str_free(&line);
	m->r[i].st = RS_DONE;
	m->pending--;
	log_delivery(m, i, "delivered", why, wl);
}

static void rcpt_fail(struct msg *m, size_t i, const char *why, size_t wl)
{
	struct str line = STR_INIT;
	struct rcpt *r = m->r + i;

	r->why.len = 0;
	if (!state_reason(&r->why, why, wl) || !state_line_D(&line, i, r->why.s, r->why.len))
		die_nomem();
	record(m, &line);
	str_free(&line);
	r->st = RS_FAILED;
	m->pending--;
	log_delivery(m, i, "failed", r->why.s, r->why.len);
}

static void rcpt_temp(struct msg *m, size_t i, const char *why, size_t wl)
{
	struct str line = STR_INIT;
	struct rcpt *r = m->r + i;
	unsigned long long end = m->arrival + set.lifetime, next;

	if (now >= end) {
		if (!str_copys(&line, EXPIRED_PREFIX) || !state_reason(&line, why, wl))
			die_nomem();
		rcpt_fail(m, i, line.s, line.len);
		str_free(&line);
		return;
	}
	r->attempts++;
	next = now + state_backoff(r->attempts, set.retrymin, set.retrymax);
	if (next > end)
		next = end; /* one last attempt when the lifetime runs out */
	r->next = next;
	r->why.len = 0;
	if (!state_reason(&r->why, why, wl) ||
	    !state_line_Z(&line, i, r->attempts, r->next, r->why.s, r->why.len))
		die_nomem();
	record(m, &line);
	str_free(&line);
	log_delivery(m, i, "deferred", r->why.s, r->why.len);
	heap_push(m, i, next);
}

void msg_forget(struct msg *m)
{
	struct msg **p = &table[hash(m->qid, m->qidlen)];
	size_t i;
	while (*p && *p != m)
		p = &(*p)->hnext;
	if (*p)
		*p = m->hnext;
	if (m->r)
		for (i = 0; i < m->env.nrcpt; i++)
			str_free(&m->r[i].why);
	free(m->r);
	envelope_free(&m->env);
	str_free(&m->envbuf);
	free(m);
}

static void clean_queue(struct msg *m)
{
	m->stage = M_CLEANQ;
	m->cnext = 0;
	if (cleanq_tail)
		cleanq_tail->cnext = m;
	else
		cleanq_head = m;
	cleanq_tail = m;
}

void clean_flush(void)
{
	while (cleanq_head && cleaning < CLEAN_OUTSTANDING) {
		struct msg *m = cleanq_head;
		struct str f = STR_INIT;
		cleanq_head = m->cnext;
		if (!cleanq_head)
			cleanq_tail = 0;
		if (!ns_cat(&f, m->qid, m->qidlen + 1))
			die_nomem();
		/* A frame is far below PIPE_BUF, and at most CLEAN_OUTSTANDING are
		 * unanswered, so this never blocks against a clean that is
		 * itself blocked writing to us. */
		if (write_all(FD_CLEAN_REQ, f.s, f.len) == -1)
			die_sys(111, "fatal: unable to write to postern-clean");
		str_free(&f);
		m->stage = M_CLEANING;
		cleaning++;
	}
}

void msg_check_done(struct msg *m)
{
	size_t i;
	int failed = 0;

	if (m->stage != M_ACTIVE || m->pending || m->busy)
		return;
	for (i = 0; i < m->env.nrcpt; i++)
		if (m->r[i].st == RS_FAILED)
			failed = 1;
	if (failed && !m->bounced && !bounce(m)) {
		heap_push(m, IDX_BOUNCE, now + set.retrymin);
		return;
	}
	clean_queue(m);
}

void clean_result(const char *qid, size_t len, char status)
{
	struct msg *m = msg_find(qid, len);
	struct logline l = { STR_INIT };

	if (!m || m->stage != M_CLEANING)
		die(111, "fatal: postern-clean answered for a message it was not asked about");
	cleaning--;
	if (status != 'K') {
		warn("warning: postern-clean could not remove ", m->qid, ", trying again later");
		m->stage = M_CLEANQ; /* nothing else may touch it meanwhile */
		heap_push(m, IDX_CLEAN, now + set.retrymin);
		return;
	}
	{
		char path[6 + QID_MAX + 1];
		memcpy(path, "info/", 5);
		memcpy(path + 5, m->qid, m->qidlen + 1);
		if (unlink(path) == -1 && errno != ENOENT)
			warn_sys("warning: unable to remove ", path);
	}
	log_begin(&l, "done");
	log_kvb(&l, "qid", m->qid, m->qidlen);
	log_end(&l);
	msg_forget(m);
}

static void msg_add(struct msg *m)
{
	unsigned h = hash(m->qid, m->qidlen);
	m->hnext = table[h];
	table[h] = m;
}

void msg_load(const char *qid, size_t len)
{
	char path[5 + QID_MAX + 5 + 1];
	struct msg *m;
	struct rstate *rs;
	struct str info = STR_INIT;
	struct stat st;
	struct logline l = { STR_INIT };
	size_t i, bad;
	int r, size_known;

	if (!qid_valid(qid, len) || msg_find(qid, len))
		return;
	m = calloc(1, sizeof *m);
	if (!m)
		die_nomem();
	memcpy(m->qid, qid, len);
	m->qid[len] = 0;
	m->qidlen = len;
	m->arrival = qid_time(qid, len);
	memcpy(path, "mess/", 5);
	memcpy(path + 5, qid, len);
	memcpy(path + 5 + len, ".env", 5);
	r = read_file(path, &m->envbuf, ENVELOPE_MAX);
	if (r <= 0) {
		if (r < 0)
			warn_sys("warning: unable to read ", path, ", trying again later");
		str_free(&m->envbuf);
		free(m);
		return;
	}
	path[5 + len] = 0;
	size_known = stat(path, &st) == 0;
	r = envelope_parse(&m->env, m->envbuf.s, m->envbuf.len);
	if (r != ENV_OK) {
		if (r < 0)
			die_nomem();
		/* postern-queue wrote it, so this is damage; keep it for a person */
		warn("warning: malformed envelope, leaving it alone: mess/", m->qid, ".env");
		m->stage = M_BROKEN;
		msg_add(m);
		return;
	}
	m->r = calloc(m->env.nrcpt, sizeof *m->r);
	rs = calloc(m->env.nrcpt, sizeof *rs);
	if (!m->r || !rs)
		die_nomem();
	memcpy(path, "info/", 5);
	memcpy(path + 5, qid, len + 1);
	r = read_file(path, &info, STATE_MAX);
	if (r < 0)
		die_sys(111, "fatal: unable to read ", path);
	bad = state_parse(info.s ? info.s : "", info.len, rs, m->env.nrcpt, &m->bounced);
	if (bad)
		warn("warning: ignored malformed records in ", path);
	m->pending = 0;
	for (i = 0; i < m->env.nrcpt; i++) {
		struct rcpt *rc = m->r + i;
		rc->st = (int)rs[i].st;
		rc->attempts = rs[i].attempts;
		rc->next = rs[i].next;
		if (rs[i].why_len && !str_copyb(&rc->why, rs[i].why, rs[i].why_len))
			die_nomem();
		if (rc->st == RS_PENDING) {
			m->pending++;
			if (rc->attempts == 0 && rc->next == 0)
				fresh_push(m, i);
			else
				heap_push(m, i, rc->next);
		}
	}
	free(rs);
	str_free(&info);
	msg_add(m);
	log_begin(&l, "new");
	log_kvb(&l, "qid", m->qid, m->qidlen);
	log_kvb(&l, "from", m->env.sender, m->env.sender_len);
	log_kvu(&l, "nrcpt", m->env.nrcpt);
	if (size_known)
		log_kvu(&l, "size", (unsigned long long)st.st_size);
	else
		log_kv(&l, "size", "unknown");
	if (r == 1)
		log_kv(&l, "resumed", "yes");
	log_end(&l);
	msg_check_done(m);
}

static int env_name(const char *name, size_t *qlen)
{
	size_t n = strlen(name);
	if (n < 5 || memcmp(name + n - 4, ".env", 4) != 0 || !qid_valid(name, n - 4))
		return 0;
	*qlen = n - 4;
	return 1;
}

void scan_mess(void)
{
	DIR *d = opendir("mess");
	struct dirent *e;

	if (!d) {
		warn_sys("warning: unable to scan queue/mess");
		return;
	}
	for (;;) {
		size_t ql;
		errno = 0;
		e = readdir(d);
		if (!e)
			break;
		if (env_name(e->d_name, &ql))
			msg_load(e->d_name, ql);
	}
	if (errno)
		warn_sys("warning: unable to scan queue/mess");
	closedir(d);
}

void drop_orphan_info(void)
{
	DIR *d = opendir("info");
	struct dirent *e;
	struct str path = STR_INIT;

	if (!d)
		die_sys(111, "fatal: unable to open queue/info");
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);
		if (e->d_name[0] == '.' || (qid_valid(e->d_name, n) && msg_find(e->d_name, n)))
			continue;
		if (!path_join(&path, "info", e->d_name))
			die_nomem();
		/* its message is gone: finished by clean before we could unlink this */
		if (unlink(path.s) == -1 && errno != ENOENT)
			warn_sys("warning: unable to remove ", path.s);
	}
	closedir(d);
	str_free(&path);
}

static int lookup_user(const char *name, unsigned long long *uid)
{
	struct passwd *pw;
	errno = 0;
	pw = getpwnam(name);
	if (!pw)
		return 0;
	*uid = pw->pw_uid;
	return 1;
}

static void start_local(struct msg *m, size_t i, const struct str *user, const struct str *ext)
{
	struct str p = STR_INIT, f = STR_INIT;
	struct running *j = run + nrun;

	j->id = next_job++;
	j->m = m;
	j->i = i;
	if (!str_catu(&p, j->id) || !str_catz(&p) || !str_catb(&p, m->qid, m->qidlen + 1) ||
	    !str_catb(&p, user->s, user->len + 1) || !str_catb(&p, ext->s, ext->len + 1) ||
	    !str_catb(&p, m->env.rcpt[i], m->env.rcpt_len[i]) || !str_catz(&p) ||
	    !str_catb(&p, m->env.sender, m->env.sender_len) || !str_catz(&p) ||
	    !ns_cat(&f, p.s, p.len))
		die_nomem();
	if (write_all(FD_LSPAWN_REQ, f.s, f.len) == -1)
		die_sys(111, "fatal: unable to write to postern-lspawn");
	str_free(&p);
	str_free(&f);
	nrun++;
	m->busy++;
	m->r[i].busy = 1;
}

/* The seam for remote delivery: postern-rspawn on fds 7 and 8 will take
 * these jobs the way postern-lspawn takes local ones. */
static void start_remote(struct msg *m, size_t i)
{
	static const char why[] = "remote delivery not yet available";
	rcpt_temp(m, i, why, sizeof why - 1);
}

void sched_dispatch(void)
{
	struct str user = STR_INIT, ext = STR_INIT;

	set.rc.lookup = lookup_user;
	for (;;) {
		struct job j;
		int fromfresh, kind;

		if (fresh_len) {
			j = fresh[fresh_head];
			fromfresh = 1;
		} else if (heap_len && heap[0].when <= now) {
			j = heap[0];
			fromfresh = 0;
		} else
			break;
		if (j.i == IDX_BOUNCE || j.i == IDX_CLEAN) {
			heap_pop();
			if (j.i == IDX_BOUNCE)
				msg_check_done(j.m);
			else
				clean_queue(j.m);
			continue;
		}
		kind = route(&set.rc, j.m->env.rcpt[j.i], j.m->env.rcpt_len[j.i], &user, &ext);
		if (kind < 0)
			die_nomem();
		if (kind == ROUTE_LOCAL && (nrun >= set.conc || nrun >= CONC_MAX))
			break; /* new mail waits only for a free slot, never behind a retry */
		if (fromfresh) {
			fresh_head = (fresh_head + 1) % fresh_cap;
			fresh_len--;
		} else
			heap_pop();
		if (kind == ROUTE_LOCAL)
			start_local(j.m, j.i, &user, &ext);
		else {
			start_remote(j.m, j.i);
			msg_check_done(j.m);
		}
	}
	str_free(&user);
	str_free(&ext);
}

void sched_result(const char *job, size_t jlen, char status, const char *text, size_t tlen)
{
	unsigned long long id;
	size_t k;
	struct msg *m;
	size_t i;

	if (!scan_ulong_all(job, jlen, &id))
		die(111, "fatal: postern-lspawn sent a malformed job id");
	for (k = 0; k < nrun; k++)
		if (run[k].id == id)
			break;
	if (k == nrun)
		die(111, "fatal: postern-lspawn answered for an unknown job");
	m = run[k].m;
	i = run[k].i;
	run[k] = run[--nrun];
	m->busy--;
	m->r[i].busy = 0;
	switch (status) {
	case 'K': rcpt_done(m, i, text, tlen); break;
	case 'D': rcpt_fail(m, i, text, tlen); break;
	case 'Z': rcpt_temp(m, i, text, tlen); break;
	default: die(111, "fatal: postern-lspawn sent an unknown status");
	}
	msg_check_done(m);
}
