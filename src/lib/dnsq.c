/* The session's DNS questions: see dnsq.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "dnsq.h"
#include "die.h"
#include "file.h"
#include "rand.h"
#include "seconds.h"
#include "str.h"

#define RESOLV_CONF "/etc/resolv.conf"
#define RESOLV_CONF_MAX 65536

/* One unconnected socket a nameserver: a connected one would take a forged
 * ICMP "port unreachable" from anyone who guesses its port as the
 * nameserver's refusal, and hide the answer already queued behind it. */
static int ns_fd[DNSQ_NAMESERVERS_MAX];
static struct sockaddr_storage ns_addr[DNSQ_NAMESERVERS_MAX];
static socklen_t ns_addrlen[DNSQ_NAMESERVERS_MAX];
static size_t nns;
static unsigned ns_dead;     /* bit n: a query to nameserver n could not be sent */
static int opened;           /* 1: the sockets are there; -1: they cannot be */
static struct dnsq *questions[DNSQ_QUESTIONS_MAX];
static size_t nquestions;

static void set_ns(struct sockaddr_storage *ss, socklen_t *sl, int family, const void *addr)
{
	memset(ss, 0, sizeof *ss);
	if (family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(53);
		memcpy(&s4->sin_addr, addr, 4);
		*sl = sizeof *s4;
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(53);
		memcpy(&s6->sin6_addr, addr, 16);
		*sl = sizeof *s6;
	}
}

/* The nameservers of resolv.conf, as the C library reads them: up to three
 * "nameserver ADDRESS" lines; none, or no file: 127.0.0.1.  A scoped IPv6
 * address (fe80::1%eth0) is left out. */
static int resolvers(struct sockaddr_storage *ss, socklen_t *sl)
{
	static const unsigned char loopback[4] = { 127, 0, 0, 1 };
	struct str f = STR_INIT;
	size_t n = 0, i = 0;
	int r = read_file(RESOLV_CONF, &f, RESOLV_CONF_MAX);

	if (r == -1) {
		warn_sys("unable to read " RESOLV_CONF ": no DNS lookups this session");
		return -1;
	}
	while (r == 1 && i < f.len && n < DNSQ_NAMESERVERS_MAX) {
		const char *line = f.s + i, *nl = memchr(line, '\n', f.len - i);
		size_t ll = nl ? (size_t)(nl - line) : f.len - i;
		unsigned char bin[16];
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
		if (inet_pton(AF_INET, addr, bin) == 1) {
			set_ns(&ss[n], &sl[n], AF_INET, bin);
			n++;
		} else if (inet_pton(AF_INET6, addr, bin) == 1) {
			set_ns(&ss[n], &sl[n], AF_INET6, bin);
			n++;
		}
	}
	str_free(&f);
	if (n == 0) {
		set_ns(&ss[n], &sl[n], AF_INET, loopback);
		n++;
	}
	return (int)n;
}

static int open_sockets(void)
{
	struct sockaddr_storage ss[DNSQ_NAMESERVERS_MAX];
	socklen_t sl[DNSQ_NAMESERVERS_MAX];
	size_t k;
	int n;

	if (opened)
		return opened;
	opened = -1;
	if ((n = resolvers(ss, sl)) == -1)
		return -1;
	for (k = 0; k < (size_t)n; k++) {
		int fd = socket(ss[k].ss_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd == -1) {
			warn_sys("unable to make a socket for DNS lookups");
			continue;
		}
		ns_addr[nns] = ss[k];
		ns_addrlen[nns] = sl[k];
		ns_fd[nns++] = fd;
	}
	if (nns)
		opened = 1;
	return opened;
}

static void send_to_all(struct dnsq *q)
{
	size_t k;

	for (k = 0; k < nns; k++) {
		if (ns_dead & (1u << k) || sendto(ns_fd[k], q->query, q->qlen, 0, (struct sockaddr *)&ns_addr[k],
		                                  ns_addrlen[k]) == (ssize_t)q->qlen)
			continue;
		/* a full socket buffer is for the resend; anything else (no
		 * route, no such family) will not get better this session */
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS && errno != EINTR)
			ns_dead |= 1u << k;
	}
}

/* 1 when q is asked again: its place in questions is kept */
static int registered(const struct dnsq *q)
{
	size_t i;
	for (i = 0; i < nquestions; i++)
		if (questions[i] == q)
			return 1;
	return 0;
}

int dnsq_ask(struct dnsq *q, const char *name, unsigned qtype)
{
	int known = registered(q);
	uint16_t id;

	q->pending = 0;
	q->resent = 0;
	q->failed = 0;
	if ((nquestions == DNSQ_QUESTIONS_MAX && !known) || open_sockets() != 1)
		return -1;
	if (!rand_bytes(&id, sizeof id) || !(q->qlen = dns_query(q->query, sizeof q->query, id, name, qtype)))
		return -1;
	if (q->edns && !(q->qlen = dns_edns(q->query, q->qlen, sizeof q->query)))
		return -1;
	q->asked_ms = monotonic_ms();
	q->pending = 1;
	if (!known)
		questions[nquestions++] = q;
	send_to_all(q);
	return 0;
}

/* A nameserver's datagram: offered to each question still pending. */
static void take(size_t k, const unsigned char *m, size_t len)
{
	size_t i;

	for (i = 0; i < nquestions; i++) {
		struct dnsq *q = questions[i];
		enum dnsq_take t;
		if (!q->pending || (t = q->take(q, k, m, len)) == DNSQ_NOT_MINE)
			continue;
		if (t == DNSQ_SETTLED)
			q->pending = 0;
		else
			q->failed |= 1u << k;
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
		take(k, m, (size_t)r);
	}
}

/* The milliseconds until the next thing to do for the n questions: a
 * resend or the end of a wait; 0 when one is due now; -1 when none of
 * them waits any more (settled, out of time, or every nameserver failed). */
static long long next_due(struct dnsq **qs, size_t n, long long wait_ms)
{
	unsigned all = (1u << nns) - 1;
	long long next = -1, resend = -1;
	size_t i;

	/* every question still pending is asked again in time, the ones not
	 * waited for now too (the blocklists', while MAIL waits for the
	 * sender's domain) */
	for (i = 0; i < nquestions; i++) {
		struct dnsq *q = questions[i];
		long long elapsed;
		if (!q->pending || q->resent)
			continue;
		if ((elapsed = monotonic_ms() - q->asked_ms) >= DNSQ_RESEND_MS) {
			q->resent = 1;
			send_to_all(q);
		} else if (resend == -1 || DNSQ_RESEND_MS - elapsed < resend)
			resend = DNSQ_RESEND_MS - elapsed;
	}
	for (i = 0; i < n; i++) {
		struct dnsq *q = qs[i];
		long long elapsed;
		if (!q->pending)
			continue;
		if (((q->failed | ns_dead) & all) == all) {
			q->pending = 0;
			continue;
		}
		elapsed = monotonic_ms() - q->asked_ms;
		if (elapsed < wait_ms && (next == -1 || wait_ms - elapsed < next))
			next = wait_ms - elapsed;
	}
	return next != -1 && resend != -1 && resend < next ? resend : next;
}

void dnsq_wait(struct dnsq **qs, size_t n, long long wait_ms)
{
	struct pollfd p[DNSQ_NAMESERVERS_MAX];
	size_t k;

	for (;;) {
		long long next;
		/* what has come already counts, however late it is looked at */
		for (k = 0; k < nns; k++)
			read_answers(k);
		if ((next = next_due(qs, n, wait_ms)) == -1)
			return;
		for (k = 0; k < nns; k++) {
			p[k].fd = ns_fd[k];
			p[k].events = POLLIN;
			p[k].revents = 0;
		}
		if (poll(p, nns, (int)(next < 1 ? 1 : next)) == -1 && errno != EINTR)
			return;
	}
}

/* Waits until fd is ready for events or deadline_ms passes: 1 ready, 0 not. */
static int ready(int fd, short events, long long deadline_ms)
{
	for (;;) {
		struct pollfd p = { fd, events, 0 };
		long long left = deadline_ms - monotonic_ms();
		int r;
		if (left <= 0)
			return 0;
		r = poll(&p, 1, (int)(left > 60000 ? 60000 : left));
		if (r == 1)
			return 1;
		if (r == -1 && errno != EINTR)
			return 0;
	}
}

/* n bytes of fd into b, as they come, until deadline_ms */
static int read_full(int fd, unsigned char *b, size_t n, long long deadline_ms)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, b + got, n - got);
		if (r > 0) {
			got += (size_t)r;
			continue;
		}
		if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
			return -1;
		if (!ready(fd, POLLIN, deadline_ms))
			return -1;
	}
	return 0;
}

int dnsq_tcp(struct dnsq *q, size_t k, long long deadline_ms)
{
	/* RFC 1035 4.2.2: the message after its two-byte length, 65,535 at most */
	static unsigned char m[65535];
	unsigned char out[2 + DNS_QUERY_MAX], len[2];
	size_t n, sent = 0;
	int fd, e, r = -1;
	socklen_t el = sizeof e;

	if (k >= nns || !q->qlen || q->qlen > DNS_QUERY_MAX)
		return -1;
	fd = socket(ns_addr[k].ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&ns_addr[k], ns_addrlen[k]) == -1) {
		if (errno != EINPROGRESS || !ready(fd, POLLOUT, deadline_ms) ||
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) == -1 || e != 0)
			goto out;
	}
	out[0] = (unsigned char)(q->qlen >> 8);
	out[1] = (unsigned char)q->qlen;
	memcpy(out + 2, q->query, q->qlen);
	while (sent < q->qlen + 2) {
		/* a reset connection must not end the session, whatever SIGPIPE is set to */
		ssize_t w = send(fd, out + sent, q->qlen + 2 - sent, MSG_NOSIGNAL);
		if (w > 0)
			sent += (size_t)w;
		else if (w == -1 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
			if (!ready(fd, POLLOUT, deadline_ms))
				goto out;
		} else
			goto out;
	}
	if (read_full(fd, len, 2, deadline_ms) == -1)
		goto out;
	n = (size_t)len[0] << 8 | len[1];
	if (n == 0 || read_full(fd, m, n, deadline_ms) == -1)
		goto out;
	/* what the nameserver said, taken as a datagram of its would be */
	if (q->take(q, k, m, n) != DNSQ_NOT_MINE)
		r = 0;
out:
	close(fd);
	return r;
}
