/* The scheduler proper: messages, the fresh queue, the retry heap, the
 * deliveries running at postern-lspawn and the requests to postern-clean. */
#include <dirent.h>
#include <errno.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h> /* rename */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "send.h"
#include "infostate.h"
#include "die.h"
#include "file.h"
#include "fmt.h"
#include "io.h"
#include "log.h"
#include "netstring.h"
#include "addr.h"
#include "case.h"
#include "ring.h"
#include "batch.h"
#include "username.h"
#include "esmtpdsn.h"

#define HASH_SIZE 65536
/* info/QID is read, and written when compacted, this many bytes at a
 * time: far more than the longest valid record (a reason is cut to
 * REASON_MAX). */
#define INFO_CHUNK 65536
/* A file at most this big is never rewritten; a bigger one is when it
 * has doubled since it was (doc/queue.md). */
#define INFO_COMPACT_MIN (64 * 1024)
static struct msg *table[HASH_SIZE];

/* fresh: new recipients.  lwait: local ones waiting for a slot.  rwait[0]
 * new and rwait[1] retried remote ones waiting for a slot (new first).
 * An entry may go stale (its recipient was delivered with another in one
 * remote job, or deferred again): job_ok() skips those. */
static struct ring fresh, lwait, rwait[2];
static struct job *heap;
static size_t heap_len, heap_cap;

/* One message of a local batch: a postern-local delivers up to
 * LOCAL_BATCH_MAX messages for one user (doc/pipes.md), and holds one
 * slot of control/concurrencylocal until the last of them is answered. */
struct running {
	unsigned long long id;    /* the message's job id */
	unsigned long long batch; /* its postern-local's */
	struct msg *m;
	size_t i;
};
#define RUN_MAX (4 * CONC_MAX)
static struct running run[RUN_MAX];
static size_t nrun;     /* messages */
static size_t nbatches; /* postern-locals */
/* The user of each postern-local running (by its name's hash, as the jobs
 * in lwait carry it): control/concurrencyperuser bounds how many one user
 * has, so that a user who stops their own postern-locals (postern-lspawn
 * kills them only after control/timeoutlocal) holds a few of everyone's
 * slots at most, and so that a stream to one user forms batches. */
struct lbatch {
	unsigned long long id;
	unsigned user;
};
static struct lbatch lbatch[CONC_MAX];
static unsigned long long next_job = 1, next_batch = 1;

/* Destination domains: remote jobs running for each, and the memory of
 * one none of whose hosts answered, so the next messages for it wait
 * instead of each trying the dead hosts again.  An entry lives while a
 * job for it runs (rrun[].d points to it only then) or while it is
 * remembered as dead, and no longer (dom_release, dom_sweep). */
struct dom {
	struct dom *next;
	struct str name;          /* lower-cased */
	size_t running;           /* its postern-remotes: rrun[] names it */
	unsigned long long dead_until;
	struct str why;
};
#define DOM_HASH 4096
#define DOM_DEAD_MAX 300 /* seconds a dead domain is remembered at most */
static struct dom *domtab[DOM_HASH];
static size_t ndoms;                     /* entries in domtab */
static unsigned long long dom_sweep_at;  /* 0: no dead entry waits to be forgotten */
static unsigned long long dom_swept;     /* when the last sweep ran */

/* One message of a remote job: a postern-remote delivers up to
 * RJOB_MSGS messages for one domain, over one connection if all goes well
 * (doc/pipes.md), and holds one slot of control/concurrencyremote and of
 * its domain until the last of them is answered. */
struct rrun {
	unsigned long long id;    /* the message's job id */
	unsigned long long batch; /* its postern-remote's */
	struct msg *m;
	struct dom *d;
	struct str srs; /* the sender it was sent with when SRS rewrote it, else empty */
	size_t n;
	size_t idx[RJOB_RCPTS];
};
#define RRUN_MAX (4 * CONC_MAX)
static struct rrun *rrun[RRUN_MAX];
static size_t nrrun;     /* messages */
static size_t nrbatches; /* postern-remotes */

static struct msg *cleanq_head, *cleanq_tail;
static size_t cleaning;

static unsigned name_hash(const char *s, size_t n)
{
	unsigned h = 2166136261u;
	while (n--)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

static unsigned hash(const char *s, size_t n) { return name_hash(s, n) % HASH_SIZE; }

struct msg *msg_find(const char *qid, size_t len)
{
	struct msg *m;
	for (m = table[hash(qid, len)]; m; m = m->hnext)
		if (m->qidlen == len && memcmp(m->qid, qid, len) == 0)
			return m;
	return 0;
}

static void fresh_push(struct msg *m, size_t i) { ring_push(&fresh, (struct job){ m, i, 0, 0 }); }

static void msg_free(struct msg *m);

/* After an entry for m left a queue: is it still a delivery to start?
 * Frees a forgotten message when its last entry goes. */
/* Is the entry a recipient still waiting for just this attempt (not a
 * bounce or clean entry, not one gone stale)? */
static int rcpt_current(const struct job *j)
{
	const struct rcpt *r;
	if (j->i == IDX_BOUNCE || j->i == IDX_CLEAN || j->m->stage != M_ACTIVE)
		return 0;
	r = j->m->r + j->i;
	return !r->busy && r->st == RS_PENDING && r->next == j->when;
}

static int job_ok(const struct job *j)
{
	if (j->m->stage == M_GONE) {
		if (!j->m->queued)
			msg_free(j->m);
		return 0;
	}
	if (j->i == IDX_BOUNCE || j->i == IDX_CLEAN)
		return 1;
	return rcpt_current(j);
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
	heap[k] = (struct job){ m, i, when, 0 };
	m->queued++;
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
	top.m->queued--;
	return top;
}

/* The first retry that is due, or the next sweep of the dead domains if
 * that comes first: the loop must wake for it even with nothing else to
 * do, or a dead domain's memory would outlive its time. */
unsigned long long sched_next_due(void)
{
	unsigned long long due = heap_len ? (heap[0].when ? heap[0].when : 1) : 0;

	if (dom_sweep_at && (!due || dom_sweep_at < due))
		due = dom_sweep_at;
	return due;
}
size_t sched_inflight(void) { return nrun + nrrun; }
size_t clean_outstanding(void) { return cleaning; }

/* The record a recipient's state comes down to, if it has one: what a
 * compacted info/QID holds for it. */
static int rcpt_line(struct str *out, const struct msg *m, size_t i)
{
	const struct rcpt *r = m->r + i;
	struct rstate rs = { (enum rstate_kind)r->st, r->attempts, r->next, r->why.s, r->why.len };

	return state_line(out, i, &rs);
}

static int flush(int fd, struct str *out, size_t *total)
{
	if (write_all(fd, out->s, out->len) == -1)
		return 0;
	*total += out->len;
	out->len = 0;
	return 1;
}

/* Writes info/.compact with one record for each recipient that has one,
 * the B and W markers, and then line (the record being added, which the
 * caller may not have applied to m yet: being last, it wins), and renames
 * it over path.  1 done, 0 not (the caller appends instead). */
static int info_compact(struct msg *m, const char *path, const struct str *line)
{
	static const char tmp[] = "info/.compact";
	struct str out = STR_INIT;
	size_t i, total = 0;
	int fd = -1, r;

	if ((unlink(tmp) == -1 && errno != ENOENT) || (fd = open_excl(tmp, 0600)) == -1)
		goto fail;
	for (i = 0; i < m->env.nrcpt; i++) {
		if (!rcpt_line(&out, m, i))
			die_nomem();
		if (out.len >= INFO_CHUNK && !flush(fd, &out, &total))
			goto fail;
	}
	if ((m->bounced && !state_line_B(&out)) || (m->warned && !state_line_W(&out)) || !str_cat(&out, line))
		die_nomem();
	/* An append lost to a power cut loses a record; a rewrite whose data
	 * had not reached the disk before its rename could lose them all. */
	if (!flush(fd, &out, &total) || fsync(fd) == -1)
		goto fail;
	r = close(fd);
	fd = -1;
	if (r == -1 || rename(tmp, path) == -1)
		goto fail;
	str_free(&out);
	m->info_len = total;
	m->info_limit = total < INFO_COMPACT_MIN / 2 ? INFO_COMPACT_MIN : 2 * total;
	m->info_torn = 0;
	return 1;
fail:
	warn_sys("warning: unable to rewrite ", path, " compacted, appending to it");
	if (fd != -1)
		close(fd);
	(void)unlink(tmp);
	str_free(&out);
	/* not again at every record: the file may double first */
	m->info_limit = m->info_len > SIZE_MAX / 2 ? SIZE_MAX : 2 * m->info_len;
	return 0;
}

/* Appends line to info/QID, or rewrites the file compacted when it has
 * grown past info_limit: records only ever add up (a Z for each
 * recipient at each failed round), and the latest one per recipient is
 * all a restart needs (doc/queue.md). */
int record(struct msg *m, const struct str *line)
{
	char path[6 + QID_MAX + 1];
	int fd;

	memcpy(path, "info/", 5);
	memcpy(path + 5, m->qid, m->qidlen + 1);
	if (!m->has_info)
		infopool_take(path);
	m->has_info = 1;
	if (m->info_len + line->len > m->info_limit && info_compact(m, path, line))
		return 1;
	fd = open_append(path, 0600);
	/* No fsync: losing a record to a power cut can only cause a second
	 * delivery or bounce, never a lost message (doc/queue.md).  After a
	 * torn line that no rewrite removed (a full disk takes a few bytes
	 * more where it refuses a new file), a newline first ends it: the
	 * reader drops it as malformed, and this record stands alone. */
	if (fd == -1 || (m->info_torn && write_all(fd, "\n", 1) == -1) ||
	    write_all(fd, line->s, line->len) == -1) {
		warn_sys("warning: unable to record state in ", path);
		if (fd != -1)
			close(fd);
		m->info_limit = 0; /* a torn line would swallow the next record: rewrite */
		m->info_torn = 1;
		return 0;
	}
	m->info_len += line->len + (m->info_torn ? 1 : 0);
	m->info_torn = 0;
	if (close(fd) == -1) {
		warn_sys("warning: unable to record state in ", path);
		return 0;
	}
	return 1;
}

/* srs: the sender the delivery was sent with when SRS rewrote it (a
 * remote job's, doc/srs.md), else 0 or empty: the line names both. */
static void log_delivery(struct msg *m, size_t i, const char *status, const char *why, size_t wl,
                         const struct str *srs)
{
	struct logline l = { STR_INIT };
	log_begin(&l, "delivery");
	log_kvb(&l, "qid", m->qid, m->qidlen);
	log_kvb(&l, "to", m->env.rcpt[i], m->env.rcpt_len[i]);
	if (srs && srs->len) {
		log_kvb(&l, "from", m->env.sender, m->env.sender_len);
		log_kvb(&l, "srs", srs->s, srs->len);
	}
	log_kv(&l, "status", status);
	log_kvu(&l, "delay", now > m->arrival ? now - m->arrival : 0);
	log_kvb(&l, "reason", why, wl);
	log_end(&l);
}

/* Whether recipient i asked anything of DSN that a success could answer:
 * a NOTIFY of its own.  Then a remote K is recorded H (the server speaks
 * DSN, else postern-remote would have said R), and postern-local's H and
 * X (a forward, doc/dsn.md "Forwards") as they are; without a NOTIFY each
 * is K, as before there were H and X.  ORCPT, RET and ENVID only shape a
 * report, and with no NOTIFY (FAILURE,DELAY) none is sent on a success:
 * for such a recipient K, H and X come to the same. */
static int rcpt_dsn_asked(const struct msg *m, size_t i)
{
	return m->env.notify && m->env.notify[i];
}

/* Recipient i delivered: K, or R (relayed) when the server it went to
 * does not speak DSN and so could not be handed its NOTIFY (doc/dsn.md).
 * The text is kept for a recipient whose success may be reported: it is
 * the report's Diagnostic-Code (until a restart, as K, R, H and X hold
 * none). */
/* how: RS_DONE (postern-local delivered it, or it went on and the
 * recipient asked nothing of DSN), RS_RELAYED (a server without DSN took
 * it: a success report is ours), RS_HANDED (a server with DSN took it and
 * the request, or postern-local forwarded it to one address with the
 * request: any report is whoever delivers it) or RS_EXPANDED
 * (postern-local sent it on to several destinations: a success report
 * says so, and the copies report on themselves).  Known now and
 * recorded, not worked out from the route when the report is built,
 * which may be after control/locals has changed. */
static void rcpt_done(struct msg *m, size_t i, enum rstate_kind how, const char *why, size_t wl,
                      const struct str *srs)
{
	struct str line = STR_INIT;
	struct rcpt *r = m->r + i;
	struct rstate rs = { how, 0, 0, 0, 0 };

	if (!state_line(&line, i, &rs))
		die_nomem();
	record(m, &line);
	str_free(&line);
	r->st = how;
	m->pending--;
	if (envelope_notify(&m->env, i) & DSN_NOTIFY_SUCCESS) {
		r->why.len = 0;
		if (!state_reason(&r->why, why, wl))
			die_nomem();
	}
	log_delivery(m, i, how == RS_RELAYED ? "relayed" : "delivered", why, wl, srs);
}

static void rcpt_fail(struct msg *m, size_t i, const char *why, size_t wl, const struct str *srs)
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
	log_delivery(m, i, "failed", r->why.s, r->why.len, srs);
}

/* The reason recorded for a recipient the administrator gave up
 * (postern-qctl): with bounce, the last temporary error goes with it, so
 * that the bounce says what was wrong and dsn_status finds its code. */
static int msg_cancel_reason(struct str *out, int how, const char *last, size_t ll)
{
	if (how == CANCEL_DELETE)
		return str_cats(out, CANCEL_DELETE_REASON);
	if (!str_cats(out, CANCEL_BOUNCE_REASON))
		return 0;
	if (!ll)
		return 1;
	return str_cats(out, "; last error: ") && state_reason(out, last, ll);
}

static void rcpt_temp(struct msg *m, size_t i, const char *why, size_t wl, const struct str *srs)
{
	struct str line = STR_INIT;
	struct rcpt *r = m->r + i;
	unsigned long long end = m->arrival + set.lifetime, next;

	if (now >= end) {
		if (!str_copys(&line, EXPIRED_PREFIX) || !state_reason(&line, why, wl))
			die_nomem();
		rcpt_fail(m, i, line.s, line.len, srs);
		str_free(&line);
		return;
	}
	if (m->cancel) {
		/* given up by the administrator while this delivery ran: it
		 * is not tried again */
		if (!msg_cancel_reason(&line, m->cancel, why, wl))
			die_nomem();
		rcpt_fail(m, i, line.s, line.len, srs);
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
	log_delivery(m, i, "deferred", r->why.s, r->why.len, srs);
	heap_push(m, i, next);
}

void msg_forget(struct msg *m)
{
	struct msg **p = &table[hash(m->qid, m->qidlen)];
	while (*p && *p != m)
		p = &(*p)->hnext;
	if (*p)
		*p = m->hnext;
	m->stage = M_GONE;
	if (!m->queued)
		msg_free(m);
}

/* SIGHUP: the messages left alone (msg_leave) are forgotten, so that the
 * next scan of mess/ loads them again: a person may have mended their
 * envelope or state.  One still broken is warned about once more.  The
 * count forgotten. */
size_t msg_forget_broken(void)
{
	size_t h, n = 0;

	for (h = 0; h < HASH_SIZE; h++) {
		struct msg **p = &table[h];
		while (*p) {
			struct msg *m = *p;
			if (m->stage != M_BROKEN) {
				p = &m->hnext;
				continue;
			}
			*p = m->hnext;
			m->stage = M_GONE;
			if (!m->queued)
				msg_free(m);
			n++;
		}
	}
	return n;
}

/* Frees all but the message itself and its id. */
static void msg_release(struct msg *m)
{
	size_t i;
	if (m->r)
		for (i = 0; i < m->env.nrcpt; i++)
			str_free(&m->r[i].why);
	free(m->r);
	m->r = 0;
	envelope_free(&m->env);
	str_free(&m->envbuf);
}

static void msg_free(struct msg *m)
{
	msg_release(m);
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
		log_flush();
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
	/* a report on successes alone goes the same way as a bounce: B
	 * records it, IDX_BOUNCE tries it again */
	if ((failed || bounce_successes(m)) && !m->bounced && !bounce(m)) {
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
		if (m->has_info)
			infopool_put(path);
	}
	log_begin(&l, "done");
	log_kvb(&l, "qid", m->qid, m->qidlen);
	log_end(&l);
	cancel_finished(m->qid, m->qidlen);
	msg_forget(m);
}

static void msg_add(struct msg *m)
{
	unsigned h = hash(m->qid, m->qidlen);
	m->hnext = table[h];
	table[h] = m;
}

/* A message it cannot work on (its envelope malformed, its state
 * unreadable) stays known, so it is warned about once, and is left alone
 * for a person: what it holds about its recipients would be a guess. */
static void msg_leave(struct msg *m)
{
	msg_release(m);
	m->stage = M_BROKEN;
	msg_add(m);
}

/* Recipient i's reason from a record, kept: the record's buffer is reused. */
static void rcpt_why(struct msg *m, size_t i, struct rstate *rs)
{
	struct str *w = &m->r[i].why;

	w->len = 0;
	if (rs[i].why_len && !str_copyb(w, rs[i].why, rs[i].why_len))
		die_nomem();
	rs[i].why = 0;
}

/* Applies info/QID (path) to rs and m, INFO_CHUNK bytes at a time, so an
 * info file of any size costs no more memory than the state it leaves.
 * 1 read, 0 absent, -1 error (errno); *bad counts malformed lines. */
static int info_read(struct msg *m, const char *path, struct rstate *rs, size_t *bad)
{
	char *b;
	size_t have = 0;
	int fd = open_read(path), skip = 0, bounced = 0, e;
	ssize_t r;

	if (fd == -1)
		return errno == ENOENT ? 0 : -1;
	if (!(b = malloc(INFO_CHUNK)))
		die_nomem();
	while ((r = read_retry(fd, b + have, INFO_CHUNK - have)) > 0) {
		size_t pos = 0;
		struct srec rec;
		int k;

		m->info_len += (size_t)r;
		have += (size_t)r;
		if (skip) { /* the rest of a line longer than any record */
			const char *nl = memchr(b, '\n', have);
			pos = nl ? (size_t)(nl - b) + 1 : have;
			skip = !nl;
		}
		while ((k = state_next(b, have, &pos, &rec, m->env.nrcpt)) >= 0) {
			if (!k) {
				(*bad)++;
				continue;
			}
			state_apply(&rec, rs, &bounced);
			if (rec.kind != 'B' && rec.kind != 'W')
				rcpt_why(m, rec.i, rs);
		}
		have -= pos;
		memmove(b, b + pos, have);
		if (have == INFO_CHUNK) {
			(*bad)++;
			skip = 1;
			have = 0;
		}
	}
	e = errno;
	free(b);
	close(fd);
	errno = e;
	if (r == -1)
		return -1;
	m->bounced = (bounced & 1) != 0;
	m->warned = (bounced & 2) != 0;
	/* A torn last line would swallow the next record appended to it:
	 * that one rewrites the file instead. */
	m->info_limit = have || skip ? 0 : INFO_COMPACT_MIN;
	m->info_torn = have || skip;
	return 1;
}

void msg_load(const char *qid, size_t len)
{
	char path[5 + QID_MAX + 5 + 1];
	struct msg *m;
	struct rstate *rs;
	struct stat st;
	struct logline l = { STR_INIT };
	size_t i, bad = 0;
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
	m->info_limit = INFO_COMPACT_MIN;
	memcpy(path, "mess/", 5);
	memcpy(path + 5, qid, len);
	memcpy(path + 5 + len, ".env", 5);
	r = read_file(path, &m->envbuf, ENVELOPE_MAX);
	if (r <= 0) {
		if (r < 0)
			warn_sys("warning: unable to read ", path, ", trying again later");
		msg_free(m);
		return;
	}
	/* read_file's buffer has room to grow (5 KB at least) and is kept as
	 * long as the message: with the whole queue in memory that room was
	 * nearly all of it (about 5.5 KB a message, where this leaves a few
	 * hundred bytes), and 40,000 messages were more than the 200 MB
	 * postern-send may have.  Before envelope_parse: a realloc may move
	 * the bytes its pointers will point to. */
	str_shrink(&m->envbuf);
	path[5 + len] = 0;
	size_known = stat(path, &st) == 0;
	r = envelope_parse(&m->env, m->envbuf.s, m->envbuf.len);
	if (r != ENV_OK) {
		if (r < 0)
			die_nomem();
		/* postern-queue wrote it, so this is damage; keep it for a person */
		warn("warning: malformed envelope, leaving it alone: mess/", m->qid, ".env");
		msg_leave(m);
		return;
	}
	m->r = calloc(m->env.nrcpt, sizeof *m->r);
	rs = calloc(m->env.nrcpt, sizeof *rs);
	if (!m->r || !rs)
		die_nomem();
	/* m->qid, not qid: the caller's qid need not end after len bytes
	 * (scan_mess passes the name "ID.env") */
	memcpy(path, "info/", 5);
	memcpy(path + 5, m->qid, len + 1);
	r = info_read(m, path, rs, &bad);
	if (r < 0) {
		if (errno == EMFILE || errno == ENFILE) {
			warn_sys("warning: unable to read ", path, ", trying again later");
			msg_free(m);
		} else {
			/* delivering on a guess could repeat every delivery it records */
			warn_sys("warning: unable to read ", path, ", leaving the message alone");
			msg_leave(m);
		}
		free(rs);
		return;
	}
	m->has_info = r == 1;
	if (bad)
		warn("warning: ignored malformed records in ", path);
	m->pending = 0;
	for (i = 0; i < m->env.nrcpt; i++) {
		struct rcpt *rc = m->r + i;
		rc->st = (int)rs[i].st;
		rc->attempts = rs[i].attempts;
		rc->next = rs[i].next;
		if (rc->st == RS_PENDING) {
			m->pending++;
			if (rc->attempts == 0 && rc->next == 0)
				fresh_push(m, i);
			else
				heap_push(m, i, rc->next);
		}
	}
	free(rs);
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
	/* a request of the administrator's comes first: a bounce waiting to
	 * be retried must not go out before a delete is applied */
	if ((r = cancel_wanted(m->qid, m->qidlen)))
		cancel_apply(m, r);
	else
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
		struct msg *m;
		if (e->d_name[0] == '.' || (qid_valid(e->d_name, n) && msg_find(e->d_name, n)))
			continue;
		if (!qid_valid(e->d_name, n)) {
			if (!path_join(&path, "info", e->d_name))
				die_nomem();
			if (unlink(path.s) == -1 && errno != ENOENT)
				warn_sys("warning: unable to remove ", path.s);
			continue;
		}
		/* An envelope that is there but could not be read now (msg_load
		 * warned, and the next scan tries again) is not an orphan: asking
		 * for its removal would delete a message. */
		if (!path_join(&path, "mess", e->d_name) || !str_cats(&path, ".env"))
			die_nomem();
		if (access(path.s, F_OK) == 0 || errno != ENOENT)
			continue;
		/* Its envelope is gone, so postern-clean was asked to remove the
		 * message, but this record says the answer never came: clean may
		 * have died between removing ID.env and ID.  Ask again (removing
		 * what is already gone is fine); the answer removes this file. */
		m = calloc(1, sizeof *m);
		if (!m)
			die_nomem();
		memcpy(m->qid, e->d_name, n + 1);
		m->qidlen = n;
		m->arrival = qid_time(e->d_name, n);
		m->has_info = 1;
		msg_add(m);
		clean_queue(m);
	}
	closedir(d);
	str_free(&path);
}

/* Routing asks for a user by name for every local recipient, and
 * getpwnam reads /etc/passwd (or asks a directory) each time: a user found
 * is kept for USER_TTL seconds, as postern-lspawn keeps it (a user removed
 * meanwhile gets lspawn's "no such user").  A name not found is never
 * kept, so a new user's mail is routed to them at once. */
#define USER_CACHE 256
#define USER_TTL 5
struct known_user {
	char name[USERNAME_MAX + 1];
	unsigned long long uid, at;
};
static struct known_user users[USER_CACHE];

static int lookup_user(const char *name, unsigned long long *uid)
{
	size_t len = strlen(name);
	struct known_user *k = users + name_hash(name, len) % USER_CACHE;
	struct passwd *pw;

	if (len <= USERNAME_MAX && k->at && now >= k->at && now - k->at < USER_TTL && strcmp(k->name, name) == 0) {
		*uid = k->uid;
		return 1;
	}
	errno = 0;
	pw = getpwnam(name);
	if (!pw)
		return 0;
	*uid = pw->pw_uid;
	if (len <= USERNAME_MAX) {
		memcpy(k->name, name, len + 1);
		k->uid = *uid;
		k->at = now ? now : 1;
	}
	return 1;
}

/* The DSN parameters a delivery passes on (doc/dsn.md): to postern-remote
 * for the next server, to postern-local for the copies a forward sends on
 * (doc/pipes.md).  Only what the client gave: recipient i's NOTIFY as
 * given, not the default envelope_notify reads when there is none.  One
 * pair of functions writes them for both, so that the two carry the same. */

/* Appends message m's MAILPARAMS field, NUL included. */
static void mail_field(struct str *out, const struct msg *m)
{
	if (!dsn_mail_params(out, m->env.ret, m->env.envid, m->env.envid_len) || !str_catz(out))
		die_nomem();
}

/* Appends recipient i's RCPTPARAMS field, NUL included. */
static void rcpt_params_field(struct str *out, const struct msg *m, size_t i)
{
	const char *o;
	size_t ol = envelope_orcpt(&m->env, i, &o);

	if (!dsn_rcpt_params(out, m->env.notify ? m->env.notify[i] : 0, o, ol) || !str_catz(out))
		die_nomem();
}

/* A request to postern-lspawn being built: USER, then JOB QID EXT
 * RECIPIENT SENDER MAILPARAMS RCPTPARAMS for each message (doc/pipes.md). */
struct batch {
	unsigned long long id;
	const struct str *user;
	unsigned user_hash;
	struct str frame;
	size_t n;
	struct str cand_user, cand_ext; /* scratch for batch_take */
	struct str fields;              /* scratch: one message's fields (local_fields) */
};

/* A frame stays below PIPE_BUF, so it reaches postern-lspawn whole.  The
 * longest message (addresses of 1000 bytes, the longest QID and user
 * name, and DSN parameters as long as dsn_mail_params and
 * dsn_rcpt_params write them: some 120 and 570 bytes) takes some 3,800
 * bytes with USER, so the first of a batch always fits. */
#define LREQ_MAX 4000
/* Waiting deliveries looked at for one batch: a long wait queue for many
 * users costs a bounded search per postern-local, not one through it all. */
#define LOCAL_BATCH_SCAN 4096

/* Replaces out with recipient i's fields but JOB: QID EXT RECIPIENT
 * SENDER MAILPARAMS RCPTPARAMS, NULs included.  Written once, measured
 * (message_bytes), and then copied into the frame if they fit. */
static void local_fields(struct str *out, const struct msg *m, size_t i, const struct str *ext)
{
	out->len = 0;
	if (!str_catb(out, m->qid, m->qidlen) || !str_catz(out) || !str_catb(out, ext->s, ext->len) ||
	    !str_catz(out) || !str_catb(out, m->env.rcpt[i], m->env.rcpt_len[i]) || !str_catz(out) ||
	    !str_catb(out, m->env.sender, m->env.sender_len) || !str_catz(out))
		die_nomem();
	mail_field(out, m);
	rcpt_params_field(out, m, i);
}

/* What a message adds to a frame: its fields (local_fields), and JOB. */
static size_t message_bytes(const struct str *fields)
{
	return FMT_ULONG + 1 + fields->len;
}

static void batch_add(struct batch *b, struct msg *m, size_t i, const struct str *fields)
{
	struct running *j = run + nrun;

	j->id = next_job++;
	j->batch = b->id;
	j->m = m;
	j->i = i;
	if (!str_catu(&b->frame, j->id) || !str_catz(&b->frame) || !str_cat(&b->frame, fields))
		die_nomem();
	b->n++;
	nrun++;
	m->busy++;
	m->r[i].busy = 1;
}

/* ring_take's question for a waiting local job: does it join the batch?
 * 1 yes, 0 no, -1 no and the batch is full. */
static int batch_take(const struct job *j, void *arg)
{
	struct batch *b = arg;

	if (b->n == LOCAL_BATCH_MAX || nrun == RUN_MAX || b->frame.len > LREQ_MAX)
		return -1;
	if (j->user != b->user_hash || !rcpt_current(j))
		return 0;
	if (route(&set.rc, j->m->env.rcpt[j->i], j->m->env.rcpt_len[j->i], &b->cand_user, &b->cand_ext) < 0)
		die_nomem();
	if (b->cand_user.len != b->user->len || memcmp(b->cand_user.s, b->user->s, b->user->len) != 0)
		return 0;
	local_fields(&b->fields, j->m, j->i, &b->cand_ext);
	if (b->frame.len + message_bytes(&b->fields) > LREQ_MAX)
		return 0;
	batch_add(b, j->m, j->i, &b->fields);
	return 1;
}

/* One postern-local for recipient i of m and whatever else waits for the
 * same user: the messages a backlog has gathered go in one process
 * instead of one each (doc/performance.md). */
static void start_local(struct msg *m, size_t i, const struct str *user, const struct str *ext)
{
	struct batch b = { next_batch++, user, name_hash(user->s, user->len), STR_INIT, 0,
	                   STR_INIT, STR_INIT, STR_INIT };
	struct str f = STR_INIT;

	if (!str_catb(&b.frame, user->s, user->len + 1))
		die_nomem();
	local_fields(&b.fields, m, i, ext);
	batch_add(&b, m, i, &b.fields);
	(void)ring_take(&lwait, LOCAL_BATCH_SCAN, batch_take, &b);
	if (!ns_cat(&f, b.frame.s, b.frame.len))
		die_nomem();
	log_flush();
	if (write_all(FD_LSPAWN_REQ, f.s, f.len) == -1)
		die_sys(111, "fatal: unable to write to postern-lspawn");
	str_free(&b.frame);
	str_free(&b.cand_user);
	str_free(&b.cand_ext);
	str_free(&b.fields);
	str_free(&f);
	lbatch[nbatches].id = b.id;
	lbatch[nbatches].user = b.user_hash;
	nbatches++;
}

static int user_slot(unsigned user)
{
	size_t k, n = 0;
	if (set.concuser >= set.conc)
		return 1; /* no limit of its own (the default) */
	for (k = 0; k < nbatches; k++)
		n += lbatch[k].user == user;
	return n < set.concuser;
}

/* A domain's entry when there is one; dom_get makes one. */
static struct dom *dom_find(const char *d, size_t n)
{
	struct dom *x;
	for (x = domtab[hash(d, n) % DOM_HASH]; x; x = x->next)
		if (x->name.len == n && memcmp(x->name.s, d, n) == 0)
			return x;
	return 0;
}

static struct dom *dom_get(const char *d, size_t n)
{
	unsigned h = hash(d, n) % DOM_HASH; /* hash of the bytes; names are lower-cased first */
	struct dom *x;
	for (x = domtab[h]; x; x = x->next)
		if (x->name.len == n && memcmp(x->name.s, d, n) == 0)
			return x;
	x = calloc(1, sizeof *x);
	if (!x || !str_copyb(&x->name, d, n))
		die_nomem();
	x->next = domtab[h];
	domtab[h] = x;
	ndoms++;
	return x;
}

/* How long a domain none of whose hosts answered is remembered: long
 * enough that a burst of messages for it does not knock at the dead hosts
 * once each, short enough that a host come back is soon tried again. */
static unsigned long long dom_dead_time(void)
{
	return set.retrymin < DOM_DEAD_MAX ? set.retrymin : DOM_DEAD_MAX;
}

/* Unlinks x (*p points to it) and frees it.  Only with nothing running:
 * then no rrun names it, and no rbatch does (one lives only inside
 * start_remote, which counts its job in running before it returns). */
static void dom_free(struct dom **p, struct dom *x)
{
	if (x->running)
		die(111, "fatal: a domain with jobs running was about to be forgotten");
	*p = x->next;
	str_free(&x->name);
	str_free(&x->why);
	free(x);
	ndoms--;
}

/* A sweep at when, or at the one already planned if that is sooner, but
 * never sooner than D after the last sweep (dom_sweep says why). */
static void dom_sweep_plan(unsigned long long when)
{
	unsigned long long first = dom_swept + dom_dead_time();

	if (when < first)
		when = first;
	if (!dom_sweep_at || when < dom_sweep_at)
		dom_sweep_at = when;
}

/* Forgets a domain that has nothing running and no failure to remember.
 * One remembered as dead is left to the sweep: its messages may all be
 * gone (bounced, say), and then no result ever comes back for it. */
static void dom_release(struct dom *x)
{
	struct dom **p;
	if (x->running)
		return;
	if (x->dead_until > now) {
		dom_sweep_plan(x->dead_until);
		return;
	}
	for (p = &domtab[hash(x->name.s, x->name.len) % DOM_HASH]; *p && *p != x; p = &(*p)->next) {}
	if (*p)
		dom_free(p, x);
}

/* Frees every entry with nothing running whose memory has run out.
 * Every domain is dead for the same time D (dom_dead_time), and a sweep
 * comes when the first dead entry with nothing running runs out, but
 * never sooner than D after the last: an entry goes at most D after it
 * could, 2D after the failure, so the table holds no more than the
 * domains running and those that failed in the last 2D seconds; and the
 * 4096 buckets are walked at most once every D seconds, and only while a
 * dead entry waits.  A list ordered by expiry would free each entry on
 * time, but it must be relinked whenever a domain dies again or answers
 * again, and its order breaks when SIGHUP changes retrymin or the clock
 * goes back; the sweep keeps no order that could break. */
static void dom_sweep(void)
{
	unsigned long long dead = dom_dead_time(), next = 0;
	size_t h, freed = 0;
	struct logline l = { STR_INIT };

	for (h = 0; h < DOM_HASH; h++) {
		struct dom **p = &domtab[h], *x;
		while ((x = *p)) {
			/* the clock went back, or SIGHUP shortened retrymin */
			if (x->dead_until > now + dead)
				x->dead_until = now + dead;
			if (!x->running && x->dead_until <= now) {
				dom_free(p, x);
				freed++;
				continue;
			}
			if (!x->running && (!next || x->dead_until < next))
				next = x->dead_until;
			p = &x->next;
		}
	}
	dom_swept = now;
	dom_sweep_at = 0;
	if (next)
		dom_sweep_plan(next);
	if (!freed)
		return;
	log_begin(&l, "domains_forgotten");
	log_kvu(&l, "n", freed);
	log_kvu(&l, "kept", ndoms);
	log_end(&l);
}

/* A sweep is due at its time, or at once when that lies further ahead
 * than any memory lasts: the clock went back (and dom_swept with it). */
static void dom_sweep_due(void)
{
	if (dom_sweep_at && (now >= dom_sweep_at || dom_sweep_at > now + DOM_DEAD_MAX))
		dom_sweep();
}

/* A remote job being built: DOMAIN, then JOB QID SENDER MAILPARAMS N and
 * RCPT RCPTPARAMS for each recipient, for each message (doc/pipes.md). */
struct rbatch {
	unsigned long long id;
	struct dom *d;
	const char *low; /* the domain, lower-cased */
	size_t dl;
	struct str frame;
	size_t msgs, rcpts;
	struct str scratch; /* for rbatch_take's parameters */
	struct str srs;     /* for rbatch_take's sender */
};

/* Is recipient i of m at the batch's domain (any case)? */
static int in_domain(const struct rbatch *b, const struct msg *m, size_t i)
{
	const char *o = m->env.rcpt[i];
	size_t ol = m->env.rcpt_len[i], at = addr_at(o, ol);

	return at < ol && case_eqb(o + at + 1, ol - at - 1, b->low, b->dl);
}

/* Appends recipient i's two fields, RCPT and RCPTPARAMS, NULs included. */
static void rcpt_fields(struct str *out, const struct msg *m, size_t i)
{
	if (!str_catb(out, m->env.rcpt[i], m->env.rcpt_len[i]) || !str_catz(out))
		die_nomem();
	rcpt_params_field(out, m, i);
}

/* The sender message m leaves with in a job started now (doc/srs.md):
 * its own, or the SRS address srs_sender writes into srs (which is
 * empty otherwise).  SRSS_NOKEY: it needs a signature postern-srs did
 * not give, and may not go. */
static int job_sender(const struct msg *m, struct str *srs)
{
	int r = srs_sender(&set.srs, &set.rc, &m->env, now, srs);

	if (r == SRSS_NOMEM)
		die_nomem();
	return r;
}

/* The SENDER field's length: the SRS address when there is one. */
static size_t sender_bytes(const struct msg *m, const struct str *srs)
{
	return srs->len ? srs->len : m->env.sender_len;
}

/* What message m's header adds to a frame: its fields (SENDER as srs
 * has it), MAILPARAMS, and room to spare for JOB, N and their NULs. */
static size_t rjob_head_bytes(const struct msg *m, const struct str *srs, struct str *scratch)
{
	scratch->len = 0;
	mail_field(scratch, m);
	return 64 + m->qidlen + sender_bytes(m, srs) + scratch->len;
}

/* What message m adds to a frame with recipient i alone. */
static size_t rjob_bytes(const struct msg *m, size_t i, const struct str *srs, struct str *scratch)
{
	size_t head = rjob_head_bytes(m, srs, scratch);

	scratch->len = 0;
	rcpt_fields(scratch, m, i);
	return head + scratch->len;
}

/* The recipients of m at the batch's domain that are due, from i on (at
 * most RJOB_RCPTS in the batch in all): into a new rrun and the frame,
 * sent by srs when that holds an SRS address (job_sender), else by m's
 * own sender.  Each recipient's fields are written once, into rcpts, and
 * taken back if they would take the frame past RJOB_BYTES. */
static void rjob_add(struct rbatch *b, struct msg *m, size_t i, const struct str *srs)
{
	struct str rcpts = STR_INIT;
	size_t k, head = b->frame.len + rjob_head_bytes(m, srs, &rcpts);
	struct rrun *j = calloc(1, sizeof *j);
	char num[FMT_ULONG];

	if (!j)
		die_nomem();
	j->id = next_job++;
	j->batch = b->id;
	j->m = m;
	j->d = b->d;
	if (srs->len && !str_copyb(&j->srs, srs->s, srs->len))
		die_nomem();
	rcpts.len = 0;
	rcpt_fields(&rcpts, m, i);
	j->idx[j->n++] = i;
	for (k = i + 1; k < m->env.nrcpt && k <= i + RJOB_SCAN && b->rcpts + j->n < RJOB_RCPTS; k++) {
		const struct rcpt *r = m->r + k;
		size_t before = rcpts.len;
		if (r->st != RS_PENDING || r->busy || r->next > now || !in_domain(b, m, k))
			continue;
		rcpt_fields(&rcpts, m, k);
		if (head + rcpts.len > RJOB_BYTES) {
			str_truncate(&rcpts, before);
			continue;
		}
		j->idx[j->n++] = k;
	}
	num[fmt_ulong(num, j->n)] = 0;
	if (!str_catu(&b->frame, j->id) || !str_catz(&b->frame) || !str_catb(&b->frame, m->qid, m->qidlen + 1) ||
	    !(srs->len ? str_cat(&b->frame, srs) : str_catb(&b->frame, m->env.sender, m->env.sender_len)) ||
	    !str_catz(&b->frame))
		die_nomem();
	mail_field(&b->frame, m);
	if (!str_cats(&b->frame, num) || !str_catz(&b->frame) || !str_cat(&b->frame, &rcpts))
		die_nomem();
	for (k = 0; k < j->n; k++)
		m->r[j->idx[k]].busy = 1;
	str_free(&rcpts);
	m->busy += j->n;
	b->msgs++;
	b->rcpts += j->n;
	rrun[nrrun++] = j;
}

/* ring_take's question for a waiting remote job: does its message go
 * over the same connection?  1 yes, 0 no, -1 no and the job is full. */
static int rbatch_take(const struct job *j, void *arg)
{
	struct rbatch *b = arg;

	if (b->msgs == RJOB_MSGS || b->rcpts >= RJOB_RCPTS || nrrun == RRUN_MAX)
		return -1;
	if (!rcpt_current(j) || j->when > now || !in_domain(b, j->m, j->i))
		return 0;
	/* one waiting for the SRS key is deferred when its own turn comes */
	if (job_sender(j->m, &b->srs) == SRSS_NOKEY)
		return 0;
	if (b->frame.len + rjob_bytes(j->m, j->i, &b->srs, &b->scratch) > RJOB_BYTES)
		return 0;
	rjob_add(b, j->m, j->i, &b->srs);
	return 1;
}

/* Starts one job at postern-rspawn for recipient i and every other due
 * recipient of the same message and domain (up to RJOB_RCPTS), and for
 * the other messages waiting for the same domain: one connection, one
 * transaction each.  0 if the domain has no free slot (the caller keeps
 * the entry waiting), 1 if started or answered at once. */
static int start_remote(struct msg *m, size_t i)
{
	const char *rc = m->env.rcpt[i];
	size_t rl = m->env.rcpt_len[i], at = addr_at(rc, rl), dl = rl - at - 1, w;
	char low[ADDR_MAX + 1];
	struct dom *d;
	struct rbatch b = { 0, 0, low, dl, STR_INIT, 0, 0, STR_INIT, STR_INIT };
	struct str f = STR_INIT, srs = STR_INIT;

	if (at >= rl || dl > ADDR_MAX)
		die(111, "fatal: a recipient without a domain passed envelope_parse");
	memcpy(low, rc + at + 1, dl);
	lowercase(low, dl);
	d = dom_get(low, dl);
	if (d->dead_until > now) {
		struct str why = STR_INIT;
		if (!str_cats(&why, "not tried: no host of the domain answered moments ago: ") ||
		    !str_cat(&why, &d->why))
			die_nomem();
		rcpt_temp(m, i, why.s, why.len, 0);
		str_free(&why);
		msg_check_done(m);
		return 1;
	}
	if (d->running >= set.concdomain)
		return 0;
	/* A forwarded copy that needs its sender rewritten never leaves
	 * with the original one for want of a signature (doc/srs.md): it
	 * waits, as after any temporary failure, until postern-srs signs.
	 * Asked here, once the job would start, for each of its remote
	 * recipients as it comes up. */
	if (job_sender(m, &srs) == SRSS_NOKEY) {
		str_free(&srs);
		rcpt_temp(m, i, SRS_NOKEY_REASON, sizeof SRS_NOKEY_REASON - 1, 0);
		msg_check_done(m);
		return 1;
	}
	b.id = next_batch++;
	b.d = d;
	if (!str_catb(&b.frame, rc + at + 1, dl) || !str_catz(&b.frame))
		die_nomem();
	rjob_add(&b, m, i, &srs);
	str_free(&srs);
	/* new mail first, then retries that are due, as dispatch takes them */
	for (w = 0; w < 2; w++)
		(void)ring_take(&rwait[w], RJOB_WAIT_SCAN, rbatch_take, &b);
	if (!ns_cat(&f, b.frame.s, b.frame.len))
		die_nomem();
	log_flush();
	/* postern-rspawn never blocks writing to us, so this write ends */
	if (write_all(FD_RSPAWN_REQ, f.s, f.len) == -1)
		die_sys(111, "fatal: unable to write to postern-rspawn");
	str_free(&b.frame);
	str_free(&b.scratch);
	str_free(&b.srs);
	str_free(&f);
	d->running++;
	nrbatches++;
	return 1;
}

static size_t remote_max(void) { return set.concremote < CONC_MAX ? set.concremote : CONC_MAX; }
static int remote_slot(void) { return nrbatches < remote_max() && nrrun < RRUN_MAX; }
static int local_slot(void) { return nbatches < set.conc && nbatches < CONC_MAX && nrun < RUN_MAX; }

/* A job taken from a queue: start it, or park it in the wait ring of its
 * kind when there is no slot. */
static void consider(struct job j, struct str *user, struct str *ext)
{
	int kind = route(&set.rc, j.m->env.rcpt[j.i], j.m->env.rcpt_len[j.i], user, ext);
	if (kind < 0)
		die_nomem();
	if (kind == ROUTE_LOCAL) {
		j.user = name_hash(user->s, user->len);
		if (!local_slot() || !user_slot(j.user))
			ring_push(&lwait, j);
		else
			start_local(j.m, j.i, user, ext);
		return;
	}
	if (!remote_slot() || !start_remote(j.m, j.i))
		ring_push(&rwait[j.when != 0], j);
}

void sched_dispatch(void)
{
	struct str user = STR_INIT, ext = STR_INIT;
	size_t w, pass;

	set.rc.lookup = lookup_user;
	/* before anything starts: no job holds a domain's entry here */
	dom_sweep_due();
	/* first what already waits for a slot, new mail before retries */
	/* a job whose user has all its slots goes back to the end: one turn */
	for (pass = lwait.len; pass && lwait.len && local_slot(); pass--) {
		struct job j = ring_pop(&lwait);
		if (job_ok(&j))
			consider(j, &user, &ext);
	}
	for (w = 0; w < 2; w++)
		/* start_remote may take more entries out of the ring: len is
		 * checked each time, pass only stops a full turn */
		for (pass = rwait[w].len; pass && rwait[w].len && remote_slot(); pass--) {
			struct job j = ring_pop(&rwait[w]);
			if (job_ok(&j) && !start_remote(j.m, j.i))
				ring_push(&rwait[w], j); /* its domain is full: next one */
		}
	for (;;) {
		struct job j;

		if (fresh.len)
			j = ring_pop(&fresh);
		else if (heap_len && heap[0].when <= now)
			j = heap_pop();
		else
			break;
		if (!job_ok(&j))
			continue;
		if (j.i == IDX_BOUNCE || j.i == IDX_CLEAN) {
			if (j.i == IDX_BOUNCE)
				msg_check_done(j.m);
			else
				clean_queue(j.m);
			continue;
		}
		consider(j, &user, &ext);
	}
	str_free(&user);
	str_free(&ext);
}

/* JOB\0 MSTATUS\0 MTEXT\0 then STATUS\0 TEXT\0 per recipient, in the
 * order of the request (doc/pipes.md).  STATUS R is a K from a server
 * without DSN (doc/dsn.md). */
/* After a result: the delay warning (control/bouncewarn), once, if
 * recipients are still being retried, locally (a mailbox over its quota,
 * say) or remotely, that long after arrival. */
static void warn_if_due(struct msg *m)
{
	if (m->stage == M_ACTIVE && !m->warned && !m->cancel && set.bouncewarn && m->pending &&
	    now >= m->arrival + set.bouncewarn)
		bounce_warn(m);
}

void rsched_result(const struct str *f)
{
	const char *fld[3 + 2 * RJOB_RCPTS];
	size_t fl[3 + 2 * RJOB_RCPTS], k;
	long nf = ns_split(f, fld, fl, 3 + 2 * RJOB_RCPTS);
	unsigned long long id;
	struct rrun *j = 0;
	struct msg *m;
	struct dom *d;

	if (nf < 5 || !scan_ulong_all(fld[0], fl[0], &id) || fl[1] != 1)
		die(111, "fatal: malformed frame from postern-rspawn");
	for (k = 0; k < nrrun; k++)
		if (rrun[k]->id == id) {
			j = rrun[k];
			rrun[k] = rrun[--nrrun];
			break;
		}
	if (!j)
		die(111, "fatal: postern-rspawn answered for an unknown job");
	if ((size_t)nf != 3 + 2 * j->n)
		die(111, "fatal: postern-rspawn answered with the wrong number of recipients");
	for (k = 0; k < j->n; k++)
		if (fl[3 + 2 * k] != 1 || !memchr("KRZD", fld[3 + 2 * k][0], 4))
			die(111, "fatal: postern-rspawn sent an unknown status");
	m = j->m;
	d = j->d;
	for (k = 0; k < nrrun; k++)
		if (rrun[k]->batch == j->batch)
			break;
	if (k == nrrun) {
		/* its postern-remote has answered for every message */
		d->running--;
		nrbatches--;
	}
	if (fld[1][0] == 'Z') {
		/* no host answered: the domain's next messages wait a while */
		d->dead_until = now + dom_dead_time();
		d->why.len = 0;
		if (!str_copyb(&d->why, fld[2], fl[2]))
			die_nomem();
	} else if (fld[1][0] == 'K')
		d->dead_until = 0;
	for (k = 0; k < j->n; k++) {
		size_t i = j->idx[k];
		const char *t = fld[4 + 2 * k];
		size_t tl = fl[4 + 2 * k];
		m->busy--;
		m->r[i].busy = 0;
		switch (fld[3 + 2 * k][0]) {
		/* a K for a recipient with DSN parameters: the server speaks DSN
		 * (else postern-remote says R) and took them on */
		case 'K': rcpt_done(m, i, rcpt_dsn_asked(m, i) ? RS_HANDED : RS_DONE, t, tl, &j->srs); break;
		case 'R': rcpt_done(m, i, RS_RELAYED, t, tl, &j->srs); break;
		case 'D': rcpt_fail(m, i, t, tl, &j->srs); break;
		default: rcpt_temp(m, i, t, tl, &j->srs); break;
		}
	}
	dom_release(d);
	str_free(&j->srs);
	free(j);
	warn_if_due(m);
	msg_check_done(m);
}

void sched_result(const char *job, size_t jlen, char status, const char *text, size_t tlen)
{
	unsigned long long id, batch;
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
	batch = run[k].batch;
	run[k] = run[--nrun];
	for (k = 0; k < nrun; k++)
		if (run[k].batch == batch)
			break;
	if (k == nrun) {
		/* its postern-local has answered for every message */
		for (k = 0; k < nbatches && lbatch[k].id != batch; k++) {}
		if (k < nbatches)
			lbatch[k] = lbatch[nbatches - 1];
		nbatches--;
	}
	m->busy--;
	m->r[i].busy = 0;
	switch (status) {
	case 'K': rcpt_done(m, i, RS_DONE, text, tlen, 0); break;
	/* a forward (doc/dsn.md): to one address, the request handed on with
	 * the copy (H), or to several, the copies without SUCCESS (X) */
	case 'H': rcpt_done(m, i, rcpt_dsn_asked(m, i) ? RS_HANDED : RS_DONE, text, tlen, 0); break;
	case 'X': rcpt_done(m, i, rcpt_dsn_asked(m, i) ? RS_EXPANDED : RS_DONE, text, tlen, 0); break;
	case 'D': rcpt_fail(m, i, text, tlen, 0); break;
	case 'Z': rcpt_temp(m, i, text, tlen, 0); break;
	default: die(111, "fatal: postern-lspawn sent an unknown status");
	}
	warn_if_due(m);
	msg_check_done(m);
}

/* postern-qctl flush (or SIGALRM): every recipient waiting for its next
 * try is due now, and every domain remembered as dead is forgotten, as
 * after an outage the admin knows is over.  The attempts made so far
 * still set the backoff of the next failure, and info/ keeps the old
 * times: a restart waits for them again.  Returns the recipients made
 * due. */
size_t sched_flush(void)
{
	size_t k, kept = 0, n = 0, h;

	for (k = 0; k < heap_len; k++) {
		struct job j = heap[k];
		j.m->queued--;
		if (!job_ok(&j))
			continue; /* stale: the flush drops it (and frees a message gone) */
		if (j.i != IDX_BOUNCE && j.i != IDX_CLEAN) {
			j.m->r[j.i].next = now;
			n++;
		}
		/* every entry kept is due at the same time: still a heap */
		heap[kept++] = (struct job){ j.m, j.i, now, 0 };
		j.m->queued++;
	}
	heap_len = kept;
	for (h = 0; h < DOM_HASH; h++) {
		struct dom *x;
		for (x = domtab[h]; x; x = x->next)
			x->dead_until = 0;
	}
	dom_sweep();
	return n;
}

/* postern-qctl flush ID: m's recipients waiting for a retry are due now,
 * and the domains they go to are no longer remembered as dead.  Each gets
 * a new entry in the heap; its old one is stale (rcpt_current) and is
 * dropped when it comes up.  Returns the recipients made due. */
size_t sched_flush_msg(struct msg *m)
{
	size_t i, n = 0;

	if (m->stage != M_ACTIVE)
		return 0;
	for (i = 0; i < m->env.nrcpt; i++) {
		struct rcpt *r = &m->r[i];
		const char *rc = m->env.rcpt[i];
		size_t rl = m->env.rcpt_len[i], at = addr_at(rc, rl);
		struct dom *d;
		char low[ADDR_MAX + 1];
		if (r->st != RS_PENDING || r->busy || r->next <= now)
			continue; /* done, failed, running, or due already */
		r->next = now;
		heap_push(m, i, now);
		n++;
		if (at < rl && rl - at - 1 <= ADDR_MAX) {
			memcpy(low, rc + at + 1, rl - at - 1);
			lowercase(low, rl - at - 1);
			if ((d = dom_find(low, rl - at - 1)))
				d->dead_until = 0;
		}
	}
	if (n)
		dom_sweep();
	return n;
}

/* postern-qctl delete or bounce for m: every recipient not yet delivered
 * fails with the administrator's reason, now or, for one being delivered,
 * when its delivery ends without success (rcpt_temp).  delete records B
 * first, so that no bounce goes.  The request stays in queue/cancel/
 * until m has left the queue (cancel.c), so a restart halfway applies
 * it again.  Returns the recipients given up now. */
size_t msg_cancel(struct msg *m, int how)
{
	struct str line = STR_INIT;
	size_t i, n = 0;

	if (m->stage != M_ACTIVE)
		return 0;
	m->cancel = how;
	if (how == CANCEL_DELETE && !m->bounced) {
		if (!state_line_B(&line))
			die_nomem();
		record(m, &line);
		m->bounced = 1;
	}
	for (i = 0; i < m->env.nrcpt; i++) {
		struct rcpt *r = m->r + i;
		if (r->st != RS_PENDING || r->busy)
			continue;
		line.len = 0;
		if (!msg_cancel_reason(&line, how, r->why.s, r->why.len))
			die_nomem();
		rcpt_fail(m, i, line.s, line.len, 0);
		n++;
	}
	str_free(&line);
	msg_check_done(m);
	return n;
}
