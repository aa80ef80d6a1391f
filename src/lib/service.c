#include <errno.h>
#include <fcntl.h>
#include <time.h>
#include <pwd.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include "service.h"
#include "die.h"
#include "fmt.h"
#include "home.h"
#include "io.h"
#include "refusal.h"
#include "seconds.h"
#include "selfpipe.h"
#include "unixsock.h"

/* u onto a list of uids (s->uids or s->checks), of n so far */
static void serve_uid(const struct service *s, uid_t *list, size_t *n, uid_t u)
{
	if (*n == SERVICE_UIDS_MAX)
		die_usage(s->usage);
	list[(*n)++] = u;
}

static uid_t scan_uid(const struct service *s, const char *arg)
{
	unsigned long long u;

	if (!scan_ulong_all(arg, strlen(arg), &u) || u > 0x7fffffffULL)
		die_usage(s->usage);
	return (uid_t)u;
}

void service_options(struct service *s, int argc, char **argv)
{
	unsigned long long u;
	int opt;

	s->notify = -1;
	s->nuids = 0;
	s->nchecks = 0;
	s->all_but = 0;
	s->ndenied = 0;
	s->npending = 0;
	while ((opt = getopt(argc, argv, "d:u:c:")) != -1) {
		switch (opt) {
		case 'd':
			if (!scan_ulong_all(optarg, strlen(optarg), &u) || u < 3 || u > 1024)
				die_usage(s->usage);
			s->notify = (int)u;
			break;
		case 'u':
			serve_uid(s, s->uids, &s->nuids, scan_uid(s, optarg));
			break;
		case 'c':
			/* a service that does not tell checks from the rest would
			 * serve such a uid for everything */
			if (!s->checks_option)
				die_usage(s->usage);
			serve_uid(s, s->checks, &s->nchecks, scan_uid(s, optarg));
			break;
		default: die_usage(s->usage);
		}
	}
	if (optind != argc)
		die_usage(s->usage);
}

uid_t service_user_uid(const char *name)
{
	struct passwd *pw;

	errno = 0;
	pw = getpwnam(name);
	if (!pw)
		die(111, "fatal: unknown user ", name, ": run ./install");
	return pw->pw_uid;
}

uid_t service_serve_user(struct service *s, const char *name)
{
	uid_t u = service_user_uid(name);

	serve_uid(s, s->uids, &s->nuids, u);
	return u;
}

uid_t service_check_user(struct service *s, const char *name)
{
	uid_t u = service_user_uid(name);

	serve_uid(s, s->checks, &s->nchecks, u);
	return u;
}

static int on_list(const uid_t *list, size_t n, uid_t u)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (list[i] == u)
			return 1;
	return 0;
}

void service_serve_all_but(struct service *s, const uid_t *denied, size_t n)
{
	s->all_but = 1;
	s->denied = denied;
	s->ndenied = n;
}

int service_serves(const struct service *s, uid_t u)
{
	return on_list(s->uids, s->nuids, u) || on_list(s->checks, s->nchecks, u) ||
	       (s->all_but && !on_list(s->denied, s->ndenied, u));
}

int service_serves_all(const struct service *s, uid_t u)
{
	return on_list(s->uids, s->nuids, u);
}

int service_checks_only(const struct service *s, uid_t u)
{
	return !on_list(s->uids, s->nuids, u) && on_list(s->checks, s->nchecks, u);
}

void service_hold_secrets(struct service *s, const char *user)
{
	if (geteuid() == 0 || getuid() == 0)
		die(100, "fatal: refusing to run as root: run me as ", user, " (s6-setuidgid)");
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		die_sys(111, "fatal: unable to make myself undumpable");
	if (s->notify != -1 && fcntl(s->notify, F_SETFD, FD_CLOEXEC) == -1)
		die_sys(111, "fatal: the notification fd is not open");
}

int service_listen(struct str *path, const char *name, int backlog)
{
	int lfd;

	if (!home_path(path, name))
		die_nomem();
	if ((lfd = unix_listen(path->s, backlog)) == -1)
		die_sys(111, "fatal: unable to listen on ", path->s);
	return lfd;
}

void service_unlisten(const char *path)
{
	if (unlink(path) == -1 && errno != ENOENT)
		warn_sys("warning: unable to remove ", path);
}

void service_ready(struct service *s)
{
	if (s->notify != -1 && (write_all(s->notify, "\n", 1) == -1 || close(s->notify) == -1))
		die_sys(111, "fatal: unable to write to the notification fd");
	s->notify = -1;
}

void service_refused(const struct service *s, uid_t uid, const char *why, const char *sys)
{
	refusal_log(s->refusal, uid, why, sys, s->served_logged && service_serves(s, uid));
}

int service_answer(int conn, const void *rec, size_t n)
{
	ssize_t r = send(conn, rec, n, MSG_DONTWAIT | MSG_NOSIGNAL);

	if (r == (ssize_t)n)
		return 0;
	if (r != -1)
		errno = EMSGSIZE;
	return -1;
}

int service_poll(struct pollfd *p, size_t n, int ms)
{
	int r = poll(p, (nfds_t)n, ms);

	if (r == -1 && errno != EINTR)
		die_sys(111, "fatal: poll failed");
	if (r > 0 && p[0].revents)
		selfpipe_drain();
	return r > 0 ? r : 0;
}

int service_accept(struct service *s, int lfd, uid_t *uid)
{
	int conn = accept4(lfd, 0, 0, SOCK_CLOEXEC | SOCK_NONBLOCK);

	*uid = (uid_t)-1;
	if (conn == -1) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED) {
			/* out of descriptors or memory: the socket stays readable,
			 * so without a pause every pass would fail again at once */
			struct timespec pause = { 0, 100 * 1000 * 1000 };
			warn_sys("warning: accept failed");
			(void)nanosleep(&pause, 0);
		}
		return -1;
	}
	if (unix_peer_uid(conn, uid) == -1 || !service_serves(s, *uid)) {
		service_refused(s, *uid, "uid not served", 0);
		if (close(conn) == -1)
			warn_sys("warning: unable to close a connection");
		return -2;
	}
	return conn;
}

/* 1 when uid may not have one more connection pending */
static int over_uid_max(const struct service *s, uid_t uid)
{
	size_t i, n = 0;

	if (!s->uid_pending_max || on_list(s->uids, s->nuids, uid))
		return 0;
	for (i = 0; i < s->npending; i++)
		if (s->pending[i].uid == uid)
			n++;
	return n >= s->uid_pending_max;
}

void service_take(struct service *s, int lfd)
{
	static const char busy[] = "Zbusy: too many requests waiting";
	int k, conn;
	uid_t uid;

	for (k = 0; k < SERVICE_ACCEPT_BATCH; k++) {
		if ((conn = service_accept(s, lfd, &uid)) == -1)
			break;
		if (conn == -2)
			continue;
		if (over_uid_max(s, uid)) {
			service_refused(s, uid, "too many connections of the uid waiting", 0);
			if (close(conn) == -1)
				warn_sys("warning: unable to close a connection");
			continue;
		}
		if (s->npending == SERVICE_PENDING_MAX ||
		    (s->npending >= SERVICE_PENDING_MAX - SERVICE_PENDING_KEPT && !on_list(s->uids, s->nuids, uid))) {
			(void)service_answer(conn, busy, sizeof busy - 1);
			service_refused(s, uid, "too many requests waiting", 0);
			(void)close(conn);
			continue;
		}
		s->pending[s->npending].fd = conn;
		s->pending[s->npending].uid = uid;
		s->pending[s->npending].since = seconds_now();
		s->npending++;
	}
}

size_t service_pollfds(const struct service *s, struct pollfd *p)
{
	size_t i;

	for (i = 0; i < s->npending; i++)
		p[i] = (struct pollfd){ s->pending[i].fd, POLLIN, 0 };
	return s->npending;
}

void service_serve_pending(struct service *s, const struct pollfd *p, int polled, int (*serve)(int conn, int late))
{
	time_t now = seconds_now();
	size_t i;

	/* newest first, so that removing one keeps the others' slots */
	for (i = s->npending; i-- > 0;) {
		int ready = polled && p[i].revents;
		int late = now - s->pending[i].since >= s->pending_s;
		if ((ready || late) && serve(s->pending[i].fd, late))
			s->pending[i] = s->pending[--s->npending];
	}
}

int service_wait(struct service *s, int sfd, int lfd, int ms)
{
	size_t n = 2;

	if (s->npending && (ms == -1 || ms > 1000))
		ms = 1000;
	s->p[0] = (struct pollfd){ sfd, POLLIN, 0 };
	s->p[1] = (struct pollfd){ lfd, POLLIN, 0 };
	n += service_pollfds(s, s->p + 2);
	s->polled = service_poll(s->p, n, ms) > 0;
	return !selfpipe_term;
}

void service_serve(struct service *s, int (*serve)(int conn, int late))
{
	service_serve_pending(s, s->p + 2, s->polled, serve);
	if (s->polled && s->p[1].revents)
		service_take(s, s->p[1].fd);
}

void service_renew(struct service *s, int conn)
{
	size_t i;

	for (i = 0; i < s->npending; i++)
		if (s->pending[i].fd == conn)
			s->pending[i].since = seconds_now();
}

void service_close_pending(struct service *s)
{
	while (s->npending)
		(void)close(s->pending[--s->npending].fd);
}
