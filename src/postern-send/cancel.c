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
static struct request *reqs;
static size_t nreqs, capreqs;

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
	size_t i;

	for (i = 0; i < nreqs; i++)
		if (reqs[i].len == len && memcmp(reqs[i].qid, qid, len) == 0)
			return reqs[i].how;
	return 0;
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

void cancel_finished(const char *qid, size_t len)
{
	size_t i;

	for (i = 0; i < nreqs; i++)
		if (reqs[i].len == len && memcmp(reqs[i].qid, qid, len) == 0) {
			request_remove(qid, len);
			reqs[i--] = reqs[--nreqs];
		}
}

/* One request read from the directory into the list; a delete wins over
 * a bounce for the same message. */
static void request_add(const char *qid, size_t len, int how)
{
	size_t i;

	for (i = 0; i < nreqs; i++)
		if (reqs[i].len == len && memcmp(reqs[i].qid, qid, len) == 0) {
			if (how == CANCEL_DELETE)
				reqs[i].how = how;
			return;
		}
	if (nreqs == capreqs) {
		size_t ncap = capreqs ? 2 * capreqs : 16;
		struct request *n;
		if (ncap > SIZE_MAX / sizeof *n || !(n = realloc(reqs, ncap * sizeof *n)))
			die_nomem();
		reqs = n;
		capreqs = ncap;
	}
	memcpy(reqs[nreqs].qid, qid, len);
	reqs[nreqs].qid[len] = 0;
	reqs[nreqs].len = len;
	reqs[nreqs].how = how;
	nreqs++;
}

/* The directory read again into the list.  0 ok, -1 it could not be read
 * (the old list stays). */
static int read_requests(void)
{
	DIR *d = opendir("cancel");
	struct dirent *e;

	if (!d) {
		if (errno == ENOENT) { /* a home not yet upgraded: no requests */
			nreqs = 0;
			return 0;
		}
		warn_sys("warning: unable to read queue/cancel");
		return -1;
	}
	nreqs = 0;
	for (;;) {
		const char *name;
		size_t n;
		int how;

		errno = 0;
		if (!(e = readdir(d)))
			break;
		name = e->d_name;
		if (name[0] == '.')
			continue;
		n = strlen(name);
		how = n > CANCEL_PREFIX && memcmp(name, "delete-", CANCEL_PREFIX) == 0   ? CANCEL_DELETE
		      : n > CANCEL_PREFIX && memcmp(name, "bounce-", CANCEL_PREFIX) == 0 ? CANCEL_BOUNCE
		                                                                         : 0;
		if (!how || n - CANCEL_PREFIX > QID_MAX || !qid_valid(name + CANCEL_PREFIX, n - CANCEL_PREFIX)) {
			warn("warning: not a request, leaving it alone: queue/cancel/", name);
			continue;
		}
		request_add(name + CANCEL_PREFIX, n - CANCEL_PREFIX, how);
	}
	if (errno) {
		warn_sys("warning: unable to read queue/cancel");
		closedir(d);
		return -1;
	}
	closedir(d);
	return 0;
}

void cancel_scan(void)
{
	size_t i;

	if (read_requests() == -1)
		return;
	for (i = 0; i < nreqs; i++) {
		struct request *r = reqs + i;
		char path[5 + QID_MAX + 5 + 1];
		struct msg *m = msg_find(r->qid, r->len);
		struct stat st;

		if (m) {
			cancel_apply(m, r->how);
			continue;
		}
		/* not known: committed and not announced yet (msg_load gives
		 * it up when it comes), or gone */
		memcpy(path, "mess/", 5);
		memcpy(path + 5, r->qid, r->len);
		memcpy(path + 5 + r->len, ".env", 5);
		if (stat(path, &st) == 0)
			continue;
		if (errno != ENOENT) {
			warn_sys("warning: unable to look at ", path, ", keeping the request");
			continue;
		}
		cancel_log(r->qid, r->len, r->how, "no_such_message", 0, 0);
		request_remove(r->qid, r->len);
		reqs[i--] = reqs[--nreqs];
	}
}
