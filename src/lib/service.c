#include <errno.h>
#include <time.h>
#include <pwd.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "service.h"
#include "die.h"
#include "fmt.h"
#include "io.h"
#include "refusal.h"
#include "seconds.h"
#include "selfpipe.h"
#include "unixsock.h"

static void serve_uid(struct service *s, uid_t u)
{
	if (s->nuids == SERVICE_UIDS_MAX)
		die_usage(s->usage);
	s->uids[s->nuids++] = u;
}

void service_options(struct service *s, int argc, char **argv)
{
	unsigned long long u;
	int opt;

	s->notify = -1;
	s->nuids = 0;
	s->npending = 0;
	while ((opt = getopt(argc, argv, "d:u:")) != -1) {
		switch (opt) {
		case 'd':
			if (!scan_ulong_all(optarg, strlen(optarg), &u) || u < 3 || u > 1024)
				die_usage(s->usage);
			s->notify = (int)u;
			break;
		case 'u':
			if (!scan_ulong_all(optarg, strlen(optarg), &u) || u > 0x7fffffffULL)
				die_usage(s->usage);
			serve_uid(s, (uid_t)u);
			break;
		default: die_usage(s->usage);
		}
	}
	if (optind != argc)
		die_usage(s->usage);
}

uid_t service_serve_user(struct service *s, const char *name)
{
	struct passwd *pw;

	errno = 0;
	pw = getpwnam(name);
	if (!pw)
		die(111, "fatal: unknown user ", name, ": run ./install");
	serve_uid(s, pw->pw_uid);
	return pw->pw_uid;
}

int service_serves(const struct service *s, uid_t u)
{
	size_t i;

	for (i = 0; i < s->nuids; i++)
		if (s->uids[i] == u)
			return 1;
	return 0;
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

void service_answer(int conn, const char *rec, size_t n)
{
	(void)send(conn, rec, n, MSG_DONTWAIT | MSG_NOSIGNAL);
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
		if (s->npending == SERVICE_PENDING_MAX) {
			service_answer(conn, busy, sizeof busy - 1);
			service_refused(s, uid, "too many requests waiting", 0);
			(void)close(conn);
			continue;
		}
		s->pending[s->npending].fd = conn;
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

void service_close_pending(struct service *s)
{
	while (s->npending)
		(void)close(s->pending[--s->npending].fd);
}
