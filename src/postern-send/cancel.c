/* The administrator's requests to give messages up: postern-qctl delete
 * and bounce leave an empty file queue/cancel/delete-ID or bounce-ID
 * (the directory is postern-send's, so only root and postern-send can
 * write there) and say "cancel" on the trigger.
 *
 * A request stays until its message has left the queue: while it is
 * there, every load of the message (a restart, a rescan) gives it up
 * again before anything else is done with it, so neither a crash nor a
 * delivery that was running when the request came can undo it, and a
 * bounce waiting to be retried never goes out after a delete
 * (doc/queue.md). */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "send.h"
#include "die.h"
#include "log.h"

#define CANCEL_PREFIX 7 /* "delete-" and "bounce-" */

struct request {
	char qid[QID_MAX + 1];
	size_t len;
	int how;
};
/* Sorted by id, one entry an id, so that a load of any message finds its
 * request, or that it has none, in a few comparisons however many the
 * admin made. */
static struct request *reqs;
static size_t nreqs;

static int by_qid(const void *a, const void *b)
{
	const struct request *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->qid, y->qid, n);

	return c ? c : (x->len > y->len) - (x->len < y->len);
}

static struct request *request_find(const char *qid, size_t len)
{
	struct request key;

	if (!nreqs || len > QID_MAX)
		return 0;
	memcpy(key.qid, qid, len);
	key.len = len;
	return bsearch(&key, reqs, nreqs, sizeof *reqs, by_qid);
}

static const char *action(int how) { return how == CANCEL_DELETE ? "delete" : "bounce"; }

static void cancel_log(const char *qid, size_t ql, int how, const char *status, struct msg *m, size_t n)
{
	struct logline l = { STR_INIT };

	log_begin(&l, "cancel");
	log_kvb(&l, "qid", qid, ql);
	log_kv(&l, "action", action(how));
	log_kv(&l, "status", status);
	if (m) {
		log_kvu(&l, "nrcpt", n);
		log_kvu(&l, "busy", m->busy);
	}
	log_end(&l);
}

int cancel_wanted(const char *qid, size_t len)
{
	struct request *r = request_find(qid, len);

	return r ? r->how : 0;
}

void cancel_apply(struct msg *m, int how)
{
	/* a delete after a bounce still keeps back a bounce not yet sent;
	 * anything else asked once is not asked again */
	if (m->cancel == how || m->cancel == CANCEL_DELETE)
		return;
	if (m->stage == M_BROKEN) {
		/* its state cannot be read: nothing to give up safely; the
		 * request waits for the person who mends it (then SIGHUP) */
		m->cancel = how;
		cancel_log(m->qid, m->qidlen, how, "left_alone", 0, 0);
		return;
	}
	if (m->stage != M_ACTIVE)
		return; /* on its way out already */
	cancel_log(m->qid, m->qidlen, how, "done", m, msg_cancel(m, how));
}

static void request_remove(const char *qid, size_t len)
{
	static const char *const verbs[] = { "cancel/delete-", "cancel/bounce-" };
	char path[7 + CANCEL_PREFIX + QID_MAX + 1];
	size_t v;

	for (v = 0; v < 2; v++) {
		size_t pl = strlen(verbs[v]);
		memcpy(path, verbs[v], pl);
		memcpy(path + pl, qid, len);
		path[pl + len] = 0;
		if (unlink(path) == -1 && errno != ENOENT)
			warn_sys("warning: unable to remove ", path);
	}
}

/* Removes entry r from the sorted list. */
static void request_drop(struct request *r)
{
	size_t i = (size_t)(r - reqs);

	memmove(r, r + 1, (nreqs - i - 1) * sizeof *r);
	nreqs--;
}

void cancel_finished(const char *qid, size_t len)
{
	struct request *r = request_find(qid, len);

	if (r) {
		request_remove(qid, len);
		request_drop(r);
	}
}

/* One request read from the directory, appended to the list being built. */
static void request_add(struct request **list, size_t *n, size_t *cap, const char *qid, size_t len, int how)
{
	if (*n == *cap) {
		size_t ncap = *cap ? 2 * *cap : 16;
		struct request *grown;
		if (ncap > SIZE_MAX / sizeof *grown || !(grown = realloc(*list, ncap * sizeof *grown)))
			die_nomem();
		*list = grown;
		*cap = ncap;
	}
	memcpy((*list)[*n].qid, qid, len);
	(*list)[*n].qid[len] = 0;
	(*list)[*n].len = len;
	(*list)[*n].how = how;
	++*n;
}

/* The list sorted, one entry an id: a delete wins over a bounce. */
static size_t sort_unique(struct request *list, size_t n)
{
	size_t i, k = 0;

	qsort(list, n, sizeof *list, by_qid);
	for (i = 0; i < n; i++) {
		if (k && by_qid(&list[k - 1], &list[i]) == 0) {
			if (list[i].how == CANCEL_DELETE)
				list[k - 1].how = CANCEL_DELETE;
			continue;
		}
		list[k++] = list[i];
	}
	return k;
}

/* The directory read again into a new list, which replaces the old one
 * only when the whole directory was read.  0 ok, -1 it could not be read
 * (the old list stays). */
static int read_requests(void)
{
	DIR *d = opendir("cancel");
	struct request *list = 0;
	size_t n = 0, cap = 0;
	struct dirent *e;

	if (!d) {
		if (errno == ENOENT) { /* a home not yet upgraded: no requests */
			nreqs = 0;
			return 0;
		}
		warn_sys("warning: unable to read queue/cancel");
		return -1;
	}
	for (;;) {
		const char *name;
		size_t len;
		int how;

		errno = 0;
		if (!(e = readdir(d)))
			break;
		name = e->d_name;
		if (name[0] == '.')
			continue;
		len = strlen(name);
		how = len > CANCEL_PREFIX && memcmp(name, "delete-", CANCEL_PREFIX) == 0   ? CANCEL_DELETE
		      : len > CANCEL_PREFIX && memcmp(name, "bounce-", CANCEL_PREFIX) == 0 ? CANCEL_BOUNCE
		                                                                           : 0;
		if (!how || len - CANCEL_PREFIX > QID_MAX || !qid_valid(name + CANCEL_PREFIX, len - CANCEL_PREFIX)) {
			warn("warning: not a request, leaving it alone: queue/cancel/", name);
			continue;
		}
		request_add(&list, &n, &cap, name + CANCEL_PREFIX, len - CANCEL_PREFIX, how);
	}
	if (errno) {
		warn_sys("warning: unable to read queue/cancel");
		closedir(d);
		free(list);
		return -1;
	}
	closedir(d);
	free(reqs);
	reqs = list;
	nreqs = sort_unique(list, n);
	return 0;
}

/* 1 when the request stays: its message is known (and given up now), or
 * committed and not loaded yet (msg_load gives it up when it comes), or
 * cannot be looked at; 0 when its message is gone. */
static int request_current(const struct request *r)
{
	char path[5 + QID_MAX + 5 + 1];
	struct msg *m = msg_find(r->qid, r->len);
	struct stat st;

	if (m) {
		cancel_apply(m, r->how);
		return 1;
	}
	memcpy(path, "mess/", 5);
	memcpy(path + 5, r->qid, r->len);
	memcpy(path + 5 + r->len, ".env", 5);
	if (stat(path, &st) == 0)
		return 1;
	if (errno != ENOENT) {
		warn_sys("warning: unable to look at ", path, ", keeping the request");
		return 1;
	}
	cancel_log(r->qid, r->len, r->how, "no_such_message", 0, 0);
	request_remove(r->qid, r->len);
	return 0;
}

void cancel_scan(void)
{
	size_t i, kept = 0;

	if (read_requests() == -1)
		return;
	/* those that stay keep their order: the list stays sorted */
	for (i = 0; i < nreqs; i++)
		if (request_current(&reqs[i]))
			reqs[kept++] = reqs[i];
	nreqs = kept;
}
