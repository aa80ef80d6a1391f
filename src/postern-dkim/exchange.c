/* The record exchange (doc/dkim.md): D and its answer N or K, then at
 * most one S for each key offered, each answered G or F.  A connection's
 * state is kept here, beside its slot in the service's pending table,
 * from its first record to its close.  Each record must come within
 * pending_s of the one before (service_renew), give or take a second
 * (service.c's clock is whole seconds, looked at once a second): so
 * between pending_s - 1 and pending_s + 1.  A connection carries at
 * most three, so none lives longer than 3 * (pending_s + 1) seconds.  A
 * record that is not exactly right, or comes out of turn, closes the
 * connection, logged as a refusal (at most a few lines a second: every
 * local user may be served).  The peer learns of it only by the close. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "holder.h"
#include "die.h"
#include "dkim.h"
#include "log.h"
#include "unixsock.h"

#define RECORD_MAX (1 + DKIM_NAME_MAX) /* D and the domain; an S is 34 */
#define DIGEST 32
/* The K answer at its longest: K, the signing domain and its NUL, then
 * for each of a domain's keys its letter, its selector and a NUL; each
 * name at most DKIM_NAME_MAX (table.c takes no longer one, and in fact
 * none whose SELECTOR._domainkey.DOMAIN is over it: far less than this). */
#define K_MAX (1 + (DKIM_NAME_MAX + 1) + DOMAIN_KEYS * (1 + DKIM_NAME_MAX + 1))
_Static_assert(K_MAX == 765, "K: 1 + (253 + 1) + 2 * (1 + 253 + 1)");
#define RECORDS_A_WAKE 4               /* records read before the others get a turn */

struct conn {
	int fd;         /* -1: a free slot */
	uid_t uid;
	int asked;      /* a D came, and was answered K */
	int done[DOMAIN_KEYS]; /* keys[i] has had its S */
	struct found f;
};

static struct conn conns[SERVICE_PENDING_MAX];
static struct service *svc;
static struct exchange_counts *counts;
static const char sendfail[] = "unable to send the answer";
static const char *send_sys; /* the system's word for the last sendfail */
static int limited;               /* exchange_limit was called */
static uid_t limited_uid;
static char limited_domain[DKIM_NAME_MAX + 1];
static size_t limited_len;

void exchange_limit(uid_t uid, const char *domain, size_t n)
{
	if (n > DKIM_NAME_MAX)
		n = 0; /* no name DKIM can sign: nothing for that uid */
	memcpy(limited_domain, domain, n);
	limited_len = n;
	limited_uid = uid;
	limited = 1;
}

void exchange_init(struct service *s, struct exchange_counts *c)
{
	size_t i;

	svc = s;
	counts = c;
	for (i = 0; i < SERVICE_PENDING_MAX; i++)
		conns[i].fd = -1;
}

/* fd's state; a new one the first time (the pending table has room for
 * no more connections than there are slots here) */
static struct conn *conn_of(int fd)
{
	struct conn *free_slot = 0;
	size_t i;

	for (i = 0; i < SERVICE_PENDING_MAX; i++) {
		if (conns[i].fd == fd)
			return &conns[i];
		if (conns[i].fd == -1 && !free_slot)
			free_slot = &conns[i];
	}
	if (!free_slot)
		die(111, "fatal: more connections than the pending table holds");
	memset(free_slot, 0, sizeof *free_slot);
	free_slot->fd = fd;
	if (unix_peer_uid(fd, &free_slot->uid) == -1)
		free_slot->uid = (uid_t)-1;
	return free_slot;
}

/* Closes c's connection and frees its slot: service_serve_pending's 1. */
static int finish(struct conn *c)
{
	if (close(c->fd) == -1)
		warn_sys("warning: unable to close a connection");
	c->fd = -1;
	return 1;
}

static int refuse(struct conn *c, const char *why, const char *sys)
{
	counts->refused++;
	service_refused(svc, c->uid, why, sys);
	return finish(c);
}

/* One record back: 0, or sendfail when the peer cannot take it at once
 * (it has gone, or its buffer is full of answers it did not read). */
static const char *answer(struct conn *c, const void *rec, size_t n)
{
	if (service_answer(c->fd, rec, n) == 0)
		return 0;
	send_sys = strerror(errno);
	return sendfail;
}

static void log_sign(const struct conn *c, const struct key *k, const char *why)
{
	struct logline l = { STR_INIT };

	log_begin(&l, why ? "error" : "sign");
	log_kvu(&l, "uid", (unsigned long long)c->uid);
	log_kv(&l, "d", k->domain);
	log_kv(&l, "s", k->selector);
	log_kv(&l, "a", dkim_alg_name(k->k.alg));
	if (why)
		log_kv(&l, "why", why);
	log_end(&l);
}

/* D: N, or K, the signing domain and each key's letter and selector.
 * 0 answered, with *end after N; or why the connection ends. */
static const char *take_d(struct conn *c, const char *name, size_t n, int *end)
{
	char k[K_MAX];
	size_t len = 0, i;

	if (c->asked)
		return "a second D record";
	if (!dkimkey_name_ok(name, n, 1))
		return "malformed D record: not a domain name in lower case";
	/* postern-send signs its own bounces, From MAILER-DAEMON@me, and
	 * nothing else: a postern-send broken into by an envelope gets no
	 * signature for any other domain */
	if ((limited && c->uid == limited_uid && (n != limited_len || memcmp(name, limited_domain, n))) ||
	    !table_find(name, n, &c->f)) {
		counts->none++;
		*end = 1;
		return answer(c, "N", 1);
	}
	c->asked = 1;
	k[len++] = 'K';
	n = strlen(c->f.domain);
	memcpy(k + len, c->f.domain, n + 1);
	len += n + 1;
	for (i = 0; i < c->f.n; i++) {
		const struct key *key = c->f.keys[i];
		n = strlen(key->selector);
		k[len++] = key->k.alg;
		memcpy(k + len, key->selector, n + 1);
		len += n + 1;
	}
	return answer(c, k, len);
}

/* S, a letter offered and the digest: G and the signature (F should
 * signing fail).  0, with *end once every key has had its S; or why the
 * connection ends. */
static const char *take_s(struct conn *c, const unsigned char *rec, size_t n, int *end)
{
	unsigned char g[1 + DKIM_RSA_BYTES_MAX];
	const struct key *k;
	const char *why;
	size_t i, len;
	int r;

	if (!c->asked)
		return "S record before a K answer";
	if (n != 2 + DIGEST)
		return "malformed S record: not a letter and 32 bytes";
	for (i = 0; i < c->f.n && c->f.keys[i]->k.alg != (char)rec[1]; i++) {}
	if (i == c->f.n)
		return "S record for an algorithm not offered";
	if (c->done[i])
		return "a second S record for one key";
	c->done[i] = 1;
	k = c->f.keys[i];
	g[0] = 'G';
	if (k->k.alg == 'r') {
		/* verified before it goes: a faulty signature would give the
		 * key's primes away (dkimkey_rsa_sign) */
		r = dkimkey_rsa_sign(&k->k, rec + 2, g + 1);
		len = k->siglen;
	} else {
		/* verified before it goes too: Ed25519 is deterministic, and a
		 * signature made with a damaged public key half (ed's second 32
		 * bytes, hashed into every signature) beside the right one of
		 * the same hash would give the secret scalar away */
		r = crypto_sign_ed25519_detached(g + 1, 0, rec + 2, DIGEST, k->ed) == 0 ? 0 : -1;
		if (r == 0 && crypto_sign_ed25519_verify_detached(g + 1, rec + 2, DIGEST, k->edpk) != 0)
			r = -2;
		len = crypto_sign_ed25519_BYTES;
	}
	if (r == 0) {
		counts->signatures++;
		log_sign(c, k, 0);
		why = answer(c, g, 1 + len);
	} else {
		static const char f[] = "Fsigning failed";
		log_sign(c, k, r == -2 ? "the signature made does not verify with the public key: not sent "
		                         "(memory or processor fault?)" : "signing failed");
		why = answer(c, f, sizeof f - 1);
		/* a key that signed wrong once may be damaged in memory: every
		 * message of its domain would wait until someone restarted us,
		 * so end, and let s6 start us on the key as it is on disk */
		if (r == -2)
			die(111, "fatal: a signature did not verify; exiting so that the keys are read again");
	}
	*end = 1;
	for (i = 0; i < c->f.n; i++)
		if (!c->done[i])
			*end = 0;
	return why;
}

int exchange(int fd, int late)
{
	struct conn *c = conn_of(fd);
	unsigned char rec[RECORD_MAX + 1]; /* + 1: a record one byte too long is seen whole */
	int k, took = 0;

	for (k = 0; k < RECORDS_A_WAKE; k++) {
		struct iovec iov = { rec, sizeof rec };
		struct msghdr m;
		const char *why;
		ssize_t r;
		int end = 0;

		memset(&m, 0, sizeof m);
		m.msg_iov = &iov;
		m.msg_iovlen = 1;
		/* no room for ancillary data: descriptors sent along are
		 * closed by the kernel, and MSG_CTRUNC says they came */
		r = recvmsg(fd, &m, MSG_DONTWAIT);
		if (r == -1 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			break;
		if (r == -1)
			return refuse(c, "unable to read a record", strerror(errno));
		/* the peer has closed (or sent an empty record): it is done,
		 * or has given up, which is its own business */
		if (r == 0)
			return finish(c);
		if (m.msg_flags & MSG_TRUNC)
			return refuse(c, "record too long", 0);
		if (m.msg_flags & MSG_CTRUNC)
			return refuse(c, "record with ancillary data", 0);
		if (rec[0] == 'D')
			why = take_d(c, (const char *)rec + 1, (size_t)r - 1, &end);
		else if (rec[0] == 'S')
			why = take_s(c, rec, (size_t)r, &end);
		else
			why = "unknown record";
		if (why)
			return refuse(c, why, why == sendfail ? send_sys : 0);
		if (end)
			return finish(c);
		took = 1;
	}
	if (took) {
		service_renew(svc, fd);
		return 0;
	}
	if (late)
		return refuse(c, c->asked ? "no S record in time" : "no D record in time", 0);
	return 0;
}
