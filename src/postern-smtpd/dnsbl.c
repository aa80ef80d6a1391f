/* DNS blocklists (doc/smtp.md, "DNS blocklists"): the client's address is
 * looked up in each zone of control/dnsbl (RFC 5782) as the session starts,
 * on the resolvers of /etc/resolv.conf, all at once and without blocking;
 * the answers are waited for only at the first RCPT, at most DNSBL_WAIT_MS
 * after the start, so a greeting delay or a slow client hides the lookups.
 * A listed client's every RCPT is refused with 554, but for postmaster
 * (RFC 5321 4.5.1: whoever is listed can still write to the admin).  A
 * lookup that fails (no answer, SERVFAIL, a list's own error code) lists
 * nobody and is logged: a list that is down must not stop the mail. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "smtpd.h"
#include "dnswire.h"
#include "die.h"
#include "file.h"
#include "log.h"
#include "rand.h"

#define DNSBL_MAX 8          /* zones looked up; more lines are logged and left */
#define NAMESERVERS_MAX 3    /* as the C library's resolver (MAXNS) */
#define DNSBL_WAIT_MS 5000   /* from the start to the last answer waited for */
#define RESEND_MS 1500       /* a query unanswered this long is sent again, once */
#define RESOLV_CONF "/etc/resolv.conf"
#define RESOLV_CONF_MAX 65536

enum state { PENDING, DONE };

struct lookup {
	struct dnsbl_zone zone;
	unsigned char query[DNS_QUERY_MAX];
	size_t qlen;
	enum state state;
	int settled;             /* a nameserver gave an answer that says what it means */
	unsigned failed;         /* bit n: nameserver n answered with an error */
	int rcode;               /* of the answer taken, or -1: none came */
	enum dnsbl_result result;
	unsigned char code[4];   /* the answer that listed, or the odd one */
	const char *why;         /* for dnsbl_error: why the lookup told nothing */
};

static struct lookup lookups[DNSBL_MAX];
static size_t nlookups;
/* One unconnected socket a nameserver: a connected one would take a forged
 * ICMP "port unreachable" from anyone who guesses its port as the
 * nameserver's refusal, and hide the answer already queued behind it. */
static int ns_fd[NAMESERVERS_MAX];
static struct sockaddr_storage ns_addr[NAMESERVERS_MAX];
static socklen_t ns_addrlen[NAMESERVERS_MAX];
static size_t nns;
static unsigned ns_dead;     /* bit n: a query to nameserver n could not be sent */
static struct timespec started;
static int resent, judged;
static struct str refusal;   /* the 554, once a zone lists the client */

static long long ms_since_start(void)
{
	struct timespec now;
	if (clock_gettime(CLOCK_MONOTONIC, &now) == -1)
		return DNSBL_WAIT_MS; /* no clock: wait no more */
	return (long long)(now.tv_sec - started.tv_sec) * 1000 + (now.tv_nsec - started.tv_nsec) / 1000000;
}

/* The nameservers of resolv.conf, as the C library reads them: up to three
 * "nameserver ADDRESS" lines; none, or no file: 127.0.0.1.  A scoped IPv6
 * address (fe80::1%eth0) is left out. */
static int resolvers(struct sockaddr_storage *ss, socklen_t *sl)
{
	struct str f = STR_INIT;
	size_t n = 0, i = 0;
	int r = read_file(RESOLV_CONF, &f, RESOLV_CONF_MAX);

	if (r == -1) {
		warn_sys("unable to read " RESOLV_CONF ": no DNS blocklist lookups");
		return -1;
	}
	while (r == 1 && i < f.len && n < NAMESERVERS_MAX) {
		const char *line = f.s + i, *nl = memchr(line, '\n', f.len - i);
		size_t ll = nl ? (size_t)(nl - line) : f.len - i;
		char addr[64];
		size_t a = 10, k = 0;
		i += ll + 1;
		if (ll < 11 || memcmp(line, "nameserver", 10) != 0 || (line[10] != ' ' && line[10] != '\t'))
			continue;
		while (a < ll && (line[a] == ' ' || line[a] == '\t'))
			a++;
		while (a < ll && line[a] != ' ' && line[a] != '\t' && line[a] != '\r' && k < sizeof addr - 1)
			addr[k++] = line[a++];
		addr[k] = 0;
		memset(&ss[n], 0, sizeof ss[n]);
		if (inet_pton(AF_INET, addr, &((struct sockaddr_in *)&ss[n])->sin_addr) == 1) {
			((struct sockaddr_in *)&ss[n])->sin_family = AF_INET;
			((struct sockaddr_in *)&ss[n])->sin_port = htons(53);
			sl[n++] = sizeof(struct sockaddr_in);
		} else if (inet_pton(AF_INET6, addr, &((struct sockaddr_in6 *)&ss[n])->sin6_addr) == 1) {
			((struct sockaddr_in6 *)&ss[n])->sin6_family = AF_INET6;
			((struct sockaddr_in6 *)&ss[n])->sin6_port = htons(53);
			sl[n++] = sizeof(struct sockaddr_in6);
		}
	}
	str_free(&f);
	if (n == 0) {
		memset(&ss[0], 0, sizeof ss[0]);
		((struct sockaddr_in *)&ss[0])->sin_family = AF_INET;
		((struct sockaddr_in *)&ss[0])->sin_port = htons(53);
		((struct sockaddr_in *)&ss[0])->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sl[0] = sizeof(struct sockaddr_in);
		n = 1;
	}
	return (int)n;
}

/* Sends every pending query to every nameserver still alive. */
static void send_pending(void)
{
	size_t i, k;

	for (k = 0; k < nns; k++) {
		if (ns_dead & (1u << k))
			continue;
		for (i = 0; i < nlookups; i++)
			if (lookups[i].state == PENDING &&
			    sendto(ns_fd[k], lookups[i].query, lookups[i].qlen, 0, (struct sockaddr *)&ns_addr[k],
			           ns_addrlen[k]) != (ssize_t)lookups[i].qlen) {
				ns_dead |= 1u << k;
				break;
			}
	}
}

/* The client's address as 4 bytes (IPv4, or IPv4 mapped into IPv6) or 16. */
static size_t client_address(unsigned char *bin)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	if (!strchr(client.ip, ':'))
		return inet_pton(AF_INET, client.ip, bin) == 1 ? 4 : 0;
	if (inet_pton(AF_INET6, client.ip, bin) != 1)
		return 0;
	if (!memcmp(bin, mapped, sizeof mapped)) {
		memmove(bin, bin + 12, 4);
		return 4;
	}
	return 16;
}

static void add_lookup(const char *line, const unsigned char *ip, size_t iplen)
{
	struct lookup *l = &lookups[nlookups];
	char name[256];
	const char *why;
	uint16_t id;

	if (dnsbl_zone_parse(line, &l->zone, &why) == -1) {
		warn("control/dnsbl: line left out (", why, "): ", line);
		return;
	}
	if (dnsbl_qname(name, sizeof name, ip, iplen, l->zone.name) == -1 ||
	    !rand_bytes(&id, sizeof id) || !(l->qlen = dns_query_a(l->query, sizeof l->query, id, name))) {
		warn("control/dnsbl: no query could be made for ", l->zone.name);
		return;
	}
	l->state = PENDING;
	l->settled = 0;
	l->failed = 0;
	l->rcode = -1;
	l->result = DNSBL_CLEAN;
	l->why = "timeout";
	nlookups++;
}

void dnsbl_start(void)
{
	struct sockaddr_storage ss[NAMESERVERS_MAX];
	socklen_t sl[NAMESERVERS_MAX];
	unsigned char ip[16];
	size_t iplen, k;
	const char *p;
	int n;

	/* mail from a client the admin trusts, from a local user, or after a
	 * login is not a stranger's */
	if (!cfg.dnsbl.len || client.local || client.relay || cfg.submission || getenv("DNSBLSKIP"))
		return;
	if (!(iplen = client_address(ip)))
		return;
	if (clock_gettime(CLOCK_MONOTONIC, &started) == -1)
		return;
	for (p = cfg.dnsbl.s; p < cfg.dnsbl.s + cfg.dnsbl.len; p += strlen(p) + 1) {
		if (nlookups == DNSBL_MAX) {
			warn("control/dnsbl: more than 8 zones; left out: ", p);
			continue;
		}
		add_lookup(p, ip, iplen);
	}
	if (!nlookups || (n = resolvers(ss, sl)) == -1) {
		nlookups = 0;
		return;
	}
	for (k = 0; k < (size_t)n; k++) {
		int fd = socket(ss[k].ss_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd == -1) {
			warn_sys("unable to make a socket for DNS blocklist lookups");
			continue;
		}
		ns_addr[nns] = ss[k];
		ns_addrlen[nns] = sl[k];
		ns_fd[nns++] = fd;
	}
	if (!nns) {
		nlookups = 0;
		return;
	}
	send_pending();
}

/* A nameserver's datagram: the answer to one of the pending lookups, or
 * nothing (a late copy, or something else). */
static void take_answer(size_t k, const unsigned char *m, size_t len)
{
	unsigned char a[DNS_ANSWER_ADDRS][4];
	size_t i, na, which;
	int tc, rcode;
	enum dnsbl_result result;

	for (i = 0; i < nlookups; i++) {
		struct lookup *l = &lookups[i];
		if (l->state != PENDING || (rcode = dns_answer_a(m, len, l->query, l->qlen, a, &na, &tc)) == -1)
			continue;
		if (rcode != 0)
			na = 0; /* an NXDOMAIN's records mean nothing */
		l->rcode = rcode;
		result = dnsbl_judge(&l->zone, a, na, &which);
		if (result != DNSBL_ODD && (rcode == 3 || (rcode == 0 && (!tc || na)))) {
			/* NXDOMAIN, or an answer: what it means is settled */
			l->state = DONE;
			l->settled = 1;
			l->result = result;
			if (result == DNSBL_LISTED)
				memcpy(l->code, a[which], 4);
			return;
		}
		/* SERVFAIL, REFUSED, an empty truncated answer, a list's error
		 * code (a public resolver refused, say): another nameserver may
		 * do better */
		l->failed |= 1u << k;
		if (result == DNSBL_ODD) {
			l->result = DNSBL_ODD;
			memcpy(l->code, a[which], 4);
			l->why = "answer is no listing";
		} else if (l->result != DNSBL_ODD)
			l->why = rcode == 0 ? "truncated answer" : rcode == 2 ? "servfail" : rcode == 5 ? "refused" : "error";
		return;
	}
}

/* The datagrams waiting on nameserver k's socket; only those from its
 * address and port 53 are looked at. */
static void read_answers(size_t k)
{
	unsigned char m[4096];

	for (;;) {
		struct sockaddr_storage from;
		socklen_t fl = sizeof from;
		ssize_t r = recvfrom(ns_fd[k], m, sizeof m, 0, (struct sockaddr *)&from, &fl);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			return; /* EAGAIN: nothing more now */
		}
		if (fl != ns_addrlen[k])
			continue;
		if (from.ss_family == AF_INET) {
			const struct sockaddr_in *f = (const struct sockaddr_in *)&from,
			                         *n = (const struct sockaddr_in *)&ns_addr[k];
			if (f->sin_port != n->sin_port || f->sin_addr.s_addr != n->sin_addr.s_addr)
				continue;
		} else if (from.ss_family == AF_INET6) {
			const struct sockaddr_in6 *f = (const struct sockaddr_in6 *)&from,
			                          *n = (const struct sockaddr_in6 *)&ns_addr[k];
			if (f->sin6_port != n->sin6_port || memcmp(&f->sin6_addr, &n->sin6_addr, 16) != 0)
				continue;
		} else
			continue;
		take_answer(k, m, (size_t)r);
	}
}

/* 1 while a lookup waits for an answer one of the nameservers may still give. */
static int waiting(void)
{
	unsigned all = (1u << nns) - 1;
	size_t i;
	int any = 0;

	for (i = 0; i < nlookups; i++) {
		struct lookup *l = &lookups[i];
		if (l->state != PENDING)
			continue;
		if (((l->failed | ns_dead) & all) == all) {
			l->state = DONE;
			if (l->rcode == -1)
				l->why = "no nameserver could be asked";
			continue;
		}
		any = 1;
	}
	return any;
}

static void collect(void)
{
	struct pollfd p[NAMESERVERS_MAX];
	size_t k;

	for (;;) {
		long long elapsed;
		int r;
		/* what has come already counts, however late the first RCPT is */
		for (k = 0; k < nns; k++)
			read_answers(k);
		if (!waiting() || (elapsed = ms_since_start()) >= DNSBL_WAIT_MS)
			return;
		if (!resent && elapsed >= RESEND_MS) {
			resent = 1;
			send_pending();
			continue;
		}
		for (k = 0; k < nns; k++) {
			p[k].fd = ns_fd[k];
			p[k].events = POLLIN;
			p[k].revents = 0;
		}
		r = poll(p, nns, (int)((resent ? DNSBL_WAIT_MS : RESEND_MS) - elapsed));
		if (r == -1 && errno != EINTR)
			return;
	}
}

static void log_result(const struct lookup *l)
{
	struct logline line = { STR_INIT };
	char code[INET_ADDRSTRLEN];

	if (l->settled && l->result == DNSBL_CLEAN)
		return;
	log_begin(&line, l->result == DNSBL_LISTED ? "dnsbl" : "dnsbl_error");
	log_kv(&line, "ip", client.ip);
	log_kv(&line, "zone", l->zone.name);
	if (l->result != DNSBL_CLEAN && inet_ntop(AF_INET, l->code, code, sizeof code))
		log_kv(&line, "answer", code);
	if (l->result != DNSBL_LISTED)
		log_kv(&line, "why", l->why);
	log_end(&line);
}

const char *dnsbl_refusal(void)
{
	size_t i, k;

	if (judged)
		return refusal.len ? refusal.s : 0;
	judged = 1;
	if (!nlookups)
		return 0;
	collect();
	for (k = 0; k < nns; k++)
		close(ns_fd[k]);
	for (i = 0; i < nlookups; i++) {
		const struct lookup *l = &lookups[i];
		log_result(l);
		if (l->result == DNSBL_LISTED && !refusal.len &&
		    (!str_copys(&refusal, "554 5.7.1 service unavailable; client [") || !str_cats(&refusal, client.ip) ||
		     !str_cats(&refusal, "] is listed by ") || !str_cats(&refusal, l->zone.name)))
			die_nomem();
	}
	return refusal.len ? refusal.s : 0;
}
