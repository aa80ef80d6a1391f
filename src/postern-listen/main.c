/* postern-listen: the SMTP listener.  Started as root by the service's run
 * script, it binds PORT on each of ADDRESS's addresses (one socket each: an
 * IPv4 and an IPv6 address are one service, one limit, one process),
 * becomes UID:GID for good, and then, for
 * each connection the rules allow, starts PROGRAM (postern-smtpd) with the
 * connection on fds 0 and 1 and the UCSPI variables in its environment;
 * at most MAX at a time, and PERIP for one client address.  It reads
 * nothing from the network.
 *
 * What it replaces: ucspi-tcp's tcpserver.  The difference that matters is
 * how a child is started: posix_spawn from a small static program instead
 * of a fork of a dynamically linked one (doc/performance.md, step 12), and
 * no log line of its own for a connection that goes well (postern-smtpd
 * logs each connection); the rules are control/tcp.smtp itself, read again
 * when it changes, with no compiled copy to rebuild. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "die.h"
#include "file.h"
#include "ids.h"
#include "fmt.h"
#include "log.h"
#include "net.h"
#include "perip.h"
#include "rules.h"
#include "selfpipe.h"
#include "spawn01.h"
#include "str.h"

#define USAGE "postern-listen [-c MAX] [-p PERIP [-m TEXT]] [-b BACKLOG] [-x RULES] -u UID -g GID [-G GID[,GID...]] ADDRESS[,ADDRESS...] PORT PROGRAM [ARG...]"
#define MAX_LIMIT 100000
#define RULES_FILE_MAX (1024 * 1024)
#define REFUSAL_MAX 500
#define ADDRESSES_MAX 8
#define ADDRESS_TEXT 64
/* -G: a group or two to read one file by, not a user's membership list */
#define GROUPS_MAX 16

extern char **environ;

struct kid {
	pid_t pid;
	struct perip_key key;
	char ip[IP_TEXT];
};

static struct kid *kids;
static size_t nkids, maxkids = 100, maxperip;
static struct str refusal = STR_INIT; /* -m TEXT and CRLF */
static int backlog = 256;
static const char *rules_path;
static struct rules rules = RULES_INIT;
static struct stat rules_st;
static char **base_env, **child_env;
static size_t base_n;
static char **program;
static int listeners[ADDRESSES_MAX];
static size_t nlisteners;
/* the supplementary groups: GID, then -G's */
static gid_t groups[1 + GROUPS_MAX];
static size_t ngroups;

static unsigned long long number(const char *s, unsigned long long lo, unsigned long long hi, const char *what)
{
	unsigned long long v;

	if (!scan_ulong_all(s, strlen(s), &v) || v < lo || v > hi)
		die(100, "fatal: ", what, " is not a number in range: ", s);
	return v;
}

/* The line for a client over the per-address limit: printable ASCII, as
 * any protocol's one-line refusal is. */
static void refusal_text(const char *t)
{
	size_t i, n = strlen(t);

	if (n == 0 || n > REFUSAL_MAX)
		die(100, "fatal: -m: 1 to 500 characters");
	for (i = 0; i < n; i++)
		if (t[i] < 0x20 || t[i] > 0x7e)
			die(100, "fatal: -m: printable ASCII only");
	str_truncate(&refusal, 0);
	if (!str_catb(&refusal, t, n) || !str_catb(&refusal, "\r\n", 2))
		die_nomem();
}

/* The UCSPI variables and any a rule may set are the listener's to give:
 * the environment it was started with keeps everything else.  When that
 * has no POSTERN_HOME and the program is HOME/bin/NAME (symbolic links
 * resolved, as the kernel's /proc/self/exe would show them), it is given
 * POSTERN_HOME=HOME: the answer postern-smtpd would find itself, found
 * once here instead of by a readlink of /proc/self/exe in every session
 * (doc/performance.md, step 19). */
static void keep_environment(const char *prog)
{
	static struct str home = STR_INIT;
	size_t n = 0, i;
	int have_home = 0;
	char *real, *slash;

	for (i = 0; environ[i]; i++)
		n++;
	base_env = calloc(n + 2, sizeof *base_env);
	child_env = calloc(n + RULE_ENV_MAX + 7, sizeof *child_env);
	if (!base_env || !child_env)
		die_nomem();
	for (i = 0; environ[i]; i++)
		if (!rules_reserved(environ[i], strcspn(environ[i], "="))) {
			have_home |= strncmp(environ[i], "POSTERN_HOME=", 13) == 0;
			base_env[base_n++] = environ[i];
		}
	if (have_home || !(real = realpath(prog, 0)))
		return; /* a program that is not there fails at its first start, logged */
	slash = strrchr(real, '/');
	if (slash && slash - real >= 4 && memcmp(slash - 4, "/bin", 4) == 0) {
		slash[-4] = 0;
		if (!str_copys(&home, "POSTERN_HOME=") || !str_cats(&home, real[0] ? real : "/") || !str_catz(&home))
			die_nomem();
		base_env[base_n++] = home.s;
	}
	free(real);
}

/* -G GID[,GID...]: numbers, at most GROUPS_MAX, after GID in groups. */
static void extra_groups(const char *list)
{
	const char *at = list;

	ngroups = 1;
	for (;;) {
		char g[16];
		size_t n = strcspn(at, ",");
		unsigned long long v;
		if (n == 0 || n >= sizeof g)
			die(100, "fatal: -G ", list, ": an empty or overlong group in the list");
		if (ngroups == 1 + GROUPS_MAX)
			die(100, "fatal: -G ", list, ": more than 16 groups");
		memcpy(g, at, n);
		g[n] = 0;
		if (!scan_ulong_all(g, n, &v) || v > 0xfffffffeULL)
			die(100, "fatal: -G ", list, ": not a numeric gid: ", g);
		groups[ngroups++] = (gid_t)v;
		if (at[n] == 0)
			return;
		at += n + 1;
	}
}

/* 1 if this process already has group g among its supplementary groups */
static int have_group(gid_t g)
{
	int i, n = getgroups(0, 0), found = 0;
	gid_t *mine;

	if (n == -1)
		die_sys(111, "fatal: unable to read my supplementary groups");
	mine = calloc((size_t)n + 1, sizeof *mine);
	if (!mine)
		die_nomem();
	n = getgroups(n, mine);
	if (n == -1)
		die_sys(111, "fatal: unable to read my supplementary groups");
	for (i = 0; i < n; i++)
		found |= mine[i] == g;
	free(mine);
	return found;
}

/* Root only to bind: from here on UID:GID, with GID and -G's groups as
 * the supplementary groups and no other, for good. */
static void become(unsigned long long uid, unsigned long long gid)
{
	size_t i;

	groups[0] = (gid_t)gid;
	if (ngroups == 0)
		ngroups = 1;
	if (geteuid() == 0) {
		int r = ids_become((uid_t)uid, (gid_t)gid, ngroups, groups);
		if (r == IDS_CALL_FAILED)
			die_sys(111, "fatal: unable to become the listener's user");
		if (r == IDS_DID_NOT_TAKE)
			die(111, "fatal: the ids did not all take, or root could be regained after dropping it");
		return;
	}
	if (getuid() != uid || getgid() != gid)
		die(111, "fatal: not root, and not already the uid and gid asked for");
	for (i = 1; i < ngroups; i++)
		if (!have_group(groups[i]))
			die(111, "fatal: not root, and not already in the groups -G asks for");
}

/* 1 rules in force, 0 kept the old ones (logged). */
static int load_rules(int at_start)
{
	struct str text = STR_INIT, why = STR_INIT;
	struct rules fresh = RULES_INIT;
	struct stat st;
	int fd, r;

	fd = open_read(rules_path);
	if (fd == -1 || fstat(fd, &st) == -1 || read_fd(fd, &text, RULES_FILE_MAX) == -1) {
		if (at_start)
			die_sys(111, "fatal: unable to read ", rules_path);
		warn_sys("warning: unable to read ", rules_path, ": the rules in force stay");
		if (fd != -1)
			close(fd);
		rules_st.st_mtim.tv_sec = -1; /* try again at the next connection */
		return 0;
	}
	close(fd);
	r = rules_parse(&fresh, text.s ? text.s : "", text.len, &why);
	str_free(&text);
	if (r == -1)
		die_nomem();
	rules_st = st;
	if (r == 0) {
		if (at_start)
			die(111, "fatal: ", rules_path, ", ", why.s);
		warn("warning: ", rules_path, ", ", why.s, ": the rules in force stay");
		str_free(&why);
		return 0;
	}
	str_free(&why);
	rules_free(&rules);
	rules = fresh;
	return 1;
}

/* The file is read again when it changes: an admin's edit applies to the
 * next connection, as tcpserver's cdb did after a rebuild. */
static void refresh_rules(void)
{
	struct stat st;

	if (!rules_path)
		return;
	if (stat(rules_path, &st) == -1) {
		if (rules_st.st_mtim.tv_sec != -1)
			warn_sys("warning: unable to stat ", rules_path, ": the rules in force stay");
		rules_st.st_mtim.tv_sec = -1;
		return;
	}
	if (st.st_ino == rules_st.st_ino && st.st_dev == rules_st.st_dev && st.st_size == rules_st.st_size &&
	    st.st_mtim.tv_sec == rules_st.st_mtim.tv_sec && st.st_mtim.tv_nsec == rules_st.st_mtim.tv_nsec &&
	    st.st_ctim.tv_sec == rules_st.st_ctim.tv_sec && st.st_ctim.tv_nsec == rules_st.st_ctim.tv_nsec)
		return;
	if (load_rules(0)) {
		struct logline l = { STR_INIT };
		log_begin(&l, "rules");
		log_kv(&l, "file", rules_path);
		log_kvu(&l, "rules", rules.n);
		log_end(&l);
	}
}

static void set_environment(const struct endpoint *remote, const struct endpoint *local, const struct rule *r)
{
	static char proto[16], rip[16 + IP_TEXT], rport[16 + PORT_TEXT], lip[16 + IP_TEXT], lport[16 + PORT_TEXT];
	size_t i, n = 0;

#define SETVAR(buf, name, value) do { size_t l_ = strlen(name); memcpy(buf, name, l_); \
	memcpy(buf + l_, value, strlen(value) + 1); child_env[n++] = buf; } while (0)
	for (i = 0; i < base_n; i++)
		if (!rules_sets(&rules, r, base_env[i], strcspn(base_env[i], "=")))
			child_env[n++] = base_env[i];
	for (i = 0; r && i < r->env_n; i++)
		child_env[n++] = (char *)rules_env(&rules, r, i);
	SETVAR(proto, "PROTO=", remote->family == AF_INET6 ? "TCP6" : "TCP");
	SETVAR(rip, "TCPREMOTEIP=", remote->ip);
	SETVAR(rport, "TCPREMOTEPORT=", remote->port);
	SETVAR(lip, "TCPLOCALIP=", local->ip);
	SETVAR(lport, "TCPLOCALPORT=", local->port);
#undef SETVAR
	child_env[n] = 0;
}

/* A client refused: who, and the rule's line or the count that refused it. */
static void log_client(const char *event, const struct endpoint *remote, const char *key, unsigned long long value)
{
	struct logline l = { STR_INIT };

	log_begin(&l, event);
	log_kv(&l, "ip", remote->ip);
	log_kv(&l, "port", remote->port);
	log_kvu(&l, key, value);
	log_end(&l);
}

/* The connection on fds 0 and 1, signals as a fresh program expects them. */
static pid_t start_program(int conn)
{
	sigset_t dflt;
	pid_t pid = -1;
	int r;

	sigemptyset(&dflt);
	sigaddset(&dflt, SIGPIPE);
	sigaddset(&dflt, SIGCHLD);
	sigaddset(&dflt, SIGTERM);
	sigaddset(&dflt, SIGINT);
	sigaddset(&dflt, SIGHUP);
	r = spawn_01(&pid, program[0], program, child_env, conn, conn, &dflt);
	if (r != 0) {
		errno = r;
		return -1;
	}
	return pid;
}

/* At the limit, connections wait in the kernel's backlog.  Said once in
 * 10 s at most: a server kept at its limit would otherwise log it for
 * every connection. */
static void log_full(void)
{
	static struct timespec last;
	static unsigned long long times;
	struct timespec now;

	times++;
	if (clock_gettime(CLOCK_MONOTONIC, &now) == 0 && last.tv_sec != 0 && now.tv_sec - last.tv_sec < 10)
		return;
	{
		struct logline l = { STR_INIT };
		log_begin(&l, "full");
		log_kvu(&l, "connections", nkids);
		log_kvu(&l, "times", times);
		log_end(&l);
	}
	last = now;
	times = 0;
}

/* Over the per-address limit the client gets -m's line, if any, in one
 * send that cannot block (a new connection's buffer is empty), and the
 * connection is closed: no program is started for it. */
static void refuse_busy(int conn, const struct endpoint *remote, size_t count)
{
	if (refusal.len)
		(void)!send(conn, refusal.s, refusal.len, MSG_DONTWAIT | MSG_NOSIGNAL);
	log_client("perip", remote, "connections", count);
}

/* peer: the client's address, as accept gave it */
static void serve(int conn, const struct sockaddr_storage *peer)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	struct endpoint remote, local;
	struct perip_key key;
	const struct rule *r;
	size_t count;
	pid_t pid;

	if (!endpoint_of(peer, &remote))
		return; /* not IPv4 or IPv6: cannot happen on our socket */
	if (getsockname(conn, (struct sockaddr *)&ss, &sl) == -1 || !endpoint_of(&ss, &local)) {
		warn_sys("warning: unable to read a connection's local address");
		return;
	}
	refresh_rules();
	r = rules_match(&rules, remote.family, remote.raw);
	if (r && !r->allow) {
		log_client("deny", &remote, "line", r->line);
		return;
	}
	perip_key(&key, remote.family, remote.raw);
	count = perip_count(&key);
	if (maxperip && count >= maxperip) {
		refuse_busy(conn, &remote, count);
		return;
	}
	set_environment(&remote, &local, r);
	pid = start_program(conn);
	if (pid == -1) {
		warn_sys("warning: unable to start ", program[0], " for ", remote.ip);
		return;
	}
	kids[nkids].pid = pid;
	kids[nkids].key = key;
	memcpy(kids[nkids].ip, remote.ip, sizeof remote.ip);
	nkids++;
	perip_add(&key);
	if (nkids == maxkids)
		log_full();
}

/* A child that ends well is postern-smtpd's to log; one that does not is
 * ours: a crash of the network-facing program must be seen. */
static void reap(void)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		size_t i;
		for (i = 0; i < nkids && kids[i].pid != pid; i++) {}
		if (i == nkids)
			continue;
		if (WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) != 0)) {
			struct logline l = { STR_INIT };
			log_begin(&l, WIFSIGNALED(status) ? "killed" : "exit");
			log_kvu(&l, "pid", (unsigned long long)pid);
			log_kv(&l, "ip", kids[i].ip);
			if (WIFSIGNALED(status))
				log_kvu(&l, "signal", (unsigned long long)WTERMSIG(status));
			else
				log_kvu(&l, "status", (unsigned long long)WEXITSTATUS(status));
			log_end(&l);
		}
		perip_del(&kids[i].key);
		kids[i] = kids[--nkids];
	}
}

/* Takes one waiting connection from lfd.  1 taken (and served), 0 none
 * waiting, -1 when the process is out of fds: the caller waits a moment
 * before trying again. */
static int accept_one(int lfd)
{
	for (;;) {
		struct sockaddr_storage peer;
		socklen_t pl = sizeof peer;
		int conn = accept4(lfd, (struct sockaddr *)&peer, &pl, SOCK_CLOEXEC);
		if (conn == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				warn_sys("warning: unable to accept");
				return -1;
			}
			continue; /* ECONNABORTED, EINTR, a network error: the next one */
		}
		serve(conn, &peer);
		if (close(conn) == -1)
			warn_sys("warning: unable to close a connection");
		return 1;
	}
}

/* Takes the connections waiting on the sockets poll found ready, up to
 * the limit, one from each in turn: at the limit each freed place goes
 * to the next address after the one served last, so a flood on one
 * address cannot keep another's clients waiting for good.  0, or -1 as
 * accept_one. */
static int accept_waiting(const struct pollfd *ready)
{
	static size_t next;
	int drained[ADDRESSES_MAX];
	size_t i, left = 0;

	for (i = 0; i < nlisteners; i++) {
		drained[i] = !ready[i].revents;
		left += !drained[i];
	}
	while (left) {
		int r;
		i = next;
		next = (next + 1) % nlisteners;
		if (drained[i])
			continue;
		/* A session that just ended must not count against its client's
		 * next connection, which may come before our SIGCHLD is read. */
		reap();
		if (nkids >= maxkids)
			return 0;
		r = accept_one(listeners[i]);
		if (r == -1)
			return -1;
		if (r == 0) {
			drained[i] = 1;
			left--;
		}
	}
	return 0;
}

/* ADDRESS is one address or several, comma-separated: each is bound on
 * PORT before anything else happens, and any that cannot be is fatal (a
 * listener on half its addresses would look up and not be).  An address
 * named twice, or 0 beside an IPv4 one, fails its bind: the kernel says
 * so. */
static void listen_all(const char *list, const char *port)
{
	const char *at = list;

	for (;;) {
		char address[ADDRESS_TEXT];
		size_t n = strcspn(at, ",");
		const char *why = "";
		if (n == 0 || n >= sizeof address)
			die(100, "fatal: ", list, ": an empty or overlong address in the list");
		if (nlisteners == ADDRESSES_MAX)
			die(100, "fatal: ", list, ": more than 8 addresses");
		memcpy(address, at, n);
		address[n] = 0;
		listeners[nlisteners] = listen_tcp(address, port, backlog, &why);
		if (listeners[nlisteners] == -1)
			die_sys(111, "fatal: ", address, " port ", port, ": ", why);
		nlisteners++;
		if (at[n] == 0)
			return;
		at += n + 1;
	}
}

int main(int argc, char **argv)
{
	unsigned long long uid = 0, gid = 0;
	int have_uid = 0, have_gid = 0, opt, sigfd, pause_ms = -1;
	struct logline l = { STR_INIT };

	progname = "postern-listen";
	while ((opt = getopt(argc, argv, "+c:p:m:b:x:u:g:G:")) != -1) {
		switch (opt) {
		case 'c': maxkids = (size_t)number(optarg, 1, MAX_LIMIT, "-c"); break;
		case 'p': maxperip = (size_t)number(optarg, 0, MAX_LIMIT, "-p"); break;
		case 'm': refusal_text(optarg); break;
		case 'b': backlog = (int)number(optarg, 1, 65535, "-b"); break;
		case 'x': rules_path = optarg; break;
		case 'u': uid = number(optarg, 1, 0xfffffffeULL, "-u (uid, not root)"); have_uid = 1; break;
		case 'g': gid = number(optarg, 0, 0xfffffffeULL, "-g"); have_gid = 1; break;
		case 'G': extra_groups(optarg); break;
		default: die_usage(USAGE);
		}
	}
	if (!have_uid || !have_gid || argc - optind < 3 || argv[optind + 2][0] != '/')
		die_usage(USAGE " (PROGRAM: an absolute path)");
	program = argv + optind + 2;
	kids = calloc(maxkids, sizeof *kids);
	if (!kids || !perip_init(maxkids))
		die_nomem();
	keep_environment(program[0]);

	listen_all(argv[optind], argv[optind + 1]);
	become(uid, gid);
	if (rules_path)
		load_rules(1);
	sigfd = selfpipe_init(SELFPIPE_CHLD | SELFPIPE_HUP);
	if (sigfd == -1)
		die_sys(111, "fatal: unable to catch signals");

	log_begin(&l, "listen");
	log_kv(&l, "address", argv[optind]);
	log_kv(&l, "port", argv[optind + 1]);
	log_kvu(&l, "max", maxkids);
	log_kvu(&l, "perip", maxperip);
	log_kvu(&l, "rules", rules.n);
	log_end(&l);

	for (;;) {
		struct pollfd p[1 + ADDRESSES_MAX];
		int waiting = nkids < maxkids && pause_ms == -1;
		size_t i;
		p[0].fd = sigfd;
		p[0].events = POLLIN;
		p[0].revents = 0;
		for (i = 0; i < nlisteners; i++) {
			p[1 + i].fd = listeners[i];
			p[1 + i].events = POLLIN;
			p[1 + i].revents = 0;
		}
		if (poll(p, waiting ? 1 + nlisteners : 1, pause_ms) == -1 && errno != EINTR)
			die_sys(111, "fatal: poll");
		if (p[0].revents) {
			selfpipe_drain();
			reap();
		}
		/* After the drain, never before: a SIGTERM caught between a look
		 * at the flag and the drain would lose its byte to the drain and
		 * leave poll asleep with the flag set. */
		if (selfpipe_term)
			break;
		if (selfpipe_hup) {
			/* s6-svc -h: the rules again now, changed or not */
			selfpipe_hup = 0;
			if (rules_path)
				rules_st.st_mtim.tv_sec = -1;
			refresh_rules();
		}
		pause_ms = -1;
		if (waiting && accept_waiting(p + 1) == -1)
			pause_ms = 100;
	}
	/* Sessions under way go on; only listening stops. */
	log_begin(&l, "stop");
	log_kvu(&l, "connections", nkids);
	log_end(&l);
	return 0;
}
