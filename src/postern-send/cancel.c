/* The administrator's requests to give messages up: postern-qctl delete
 * and bounce leave an empty file queue/cancel/delete-ID or bounce-ID
 * (the directory is postern-send's, so only root and postern-send can
 * write there), and tell postern-send to look through the trigger.  A
 * request is removed once it is carried out, so one that a crash
 * interrupted is carried out again at the next start (doc/queue.md). */
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "send.h"
#include "die.h"
#include "log.h"

#define CANCEL_NAME_MAX (7 + QID_MAX) /* "delete-" and the id */

static void cancel_log(const char *qid, size_t ql, const char *action, const char *status, size_t n)
{
	struct logline l = { STR_INIT };

	log_begin(&l, "cancel");
	log_kvb(&l, "qid", qid, ql);
	log_kv(&l, "action", action);
	log_kv(&l, "status", status);
	if (status[0] == 'd') /* "done" */
		log_kvu(&l, "nrcpt", n);
	log_end(&l);
}

/* One request: 1 carried out or moot (remove it), 0 keep it for later. */
static int cancel_one(const char *qid, size_t ql, int how)
{
	const char *action = how == CANCEL_DELETE ? "delete" : "bounce";
	char path[5 + QID_MAX + 5 + 1];
	struct msg *m = msg_find(qid, ql);
	struct stat st;

	if (!m) {
		/* committed but not announced yet, or postern-send just started */
		memcpy(path, "mess/", 5);
		memcpy(path + 5, qid, ql);
		memcpy(path + 5 + ql, ".env", 5);
		if (stat(path, &st) == -1) {
			if (errno != ENOENT) {
				warn_sys("warning: unable to look at ", path, ", trying the request later");
				return 0;
			}
			cancel_log(qid, ql, action, "no_such_message", 0);
			return 1;
		}
		msg_load(qid, ql);
		if (!(m = msg_find(qid, ql)))
			return 0; /* msg_load said why */
	}
	switch (m->stage) {
	case M_ACTIVE:
		cancel_log(qid, ql, action, "done", msg_cancel(m, how));
		return 1;
	case M_BROKEN:
		/* its state cannot be read: nothing to give up safely; the
		 * request waits for the person who mends it (then SIGHUP) */
		cancel_log(qid, ql, action, "left_alone", 0);
		return 0;
	default: /* being removed already */
		cancel_log(qid, ql, action, "finishing", 0);
		return 1;
	}
}

void cancel_scan(void)
{
	DIR *d = opendir("cancel");
	struct dirent *e;

	if (!d) {
		if (errno != ENOENT) /* no directory: a home not yet upgraded */
			warn_sys("warning: unable to read queue/cancel");
		return;
	}
	for (;;) {
		const char *name, *qid;
		char path[7 + CANCEL_NAME_MAX + 1];
		size_t n;
		int how;

		errno = 0;
		if (!(e = readdir(d)))
			break;
		name = e->d_name;
		if (name[0] == '.')
			continue;
		n = strlen(name);
		if (n > 7 && memcmp(name, "delete-", 7) == 0)
			how = CANCEL_DELETE;
		else if (n > 7 && memcmp(name, "bounce-", 7) == 0)
			how = CANCEL_BOUNCE;
		else
			how = 0;
		qid = name + 7;
		if (!how || n > CANCEL_NAME_MAX || !qid_valid(qid, n - 7)) {
			warn("warning: not a request, leaving it alone: queue/cancel/", name);
			continue;
		}
		if (!cancel_one(qid, n - 7, how))
			continue;
		memcpy(path, "cancel/", 7);
		memcpy(path + 7, name, n + 1);
		if (unlink(path) == -1 && errno != ENOENT)
			warn_sys("warning: unable to remove ", path);
	}
	if (errno)
		warn_sys("warning: unable to read queue/cancel");
	closedir(d);
}
