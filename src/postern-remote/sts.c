/* Policy sts of control/remotetls: MTA-STS (RFC 8461).  A domain that
 * publishes a TXT record at _mta-sts.DOMAIN and a policy at
 * https://mta-sts.DOMAIN/.well-known/mta-sts.txt says which of its MX
 * hosts may take its mail and that they have certificates an authority
 * signed.  Under mode enforce only those hosts are tried, each under
 * policy verify; under testing every host, under may, but with the chain
 * judged as verify would (postern-tlsio's policy t) and what enforce
 * would have refused logged (RFC 8461 5: validate, deliver anyway, report;
 * TLSRPT is not sent); under none, and for a domain without a policy,
 * may.  The policy is fetched over HTTPS through postern-tlsd's
 * engine (policy v, the name mta-sts.DOMAIN: the fetch is what makes the
 * policy trustworthy, where the MX answer is not) and kept in
 * HOME/queue/mtasts/DOMAIN for its max_age, fetched again when the
 * record's id changes.  A fetch that fails keeps the cached policy, and
 * without one the domain is as if it had none (RFC 8461 5.1): whoever
 * can block the first fetch can send that first mail in clear, which is
 * the protocol's own limit ("trust on first use"). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "remote.h"
#include "addr.h"
#include "die.h"
#include "file.h"
#include "home.h"
#include "io.h"
#include "log.h"
#include "mtasts.h"
#include "seconds.h"

#define STS_FETCH_MS 30000 /* the fetch of a policy: the first connect to its last byte */
#define STS_ADDRS_MAX 4    /* addresses of mta-sts.DOMAIN tried */
#define STS_TXT_MAX 8      /* TXT records at _mta-sts.DOMAIN looked at */
/* a response: the fields, and a chunked body's sizes and line ends */
#define STS_RESPONSE_MAX (MTASTS_HEAD_MAX + 2 * MTASTS_BODY_MAX)
#define STS_CACHE_MAX (MTASTS_BODY_MAX + 512)
#define STS_RETRY_SECS 3600 /* between tries to fetch a policy in use again */
#define STS_DIR "queue/mtasts"

/* What became of the policy: the log line's words. */
struct found {
	const char *record;  /* "yes", "none", "invalid", "dns_error" */
	const char *source;  /* "fetched", "refreshed", "cache", "-" */
	const char *fetch;   /* why a fetch failed, or 0 */
	char id[MTASTS_ID_MAX + 1];
};

/* The record's id: 1 one STS record, 0 none (or not exactly one valid
 * one: RFC 8461 3.1), -1 the lookup failed. */
static int record_id(const char *domain, char id[MTASTS_ID_MAX + 1], struct found *f)
{
	struct str name = STR_INIT, list = STR_INIT;
	size_t n = 0, i, sts = 0;
	const char *p;
	int r, bad = 0;
	enum dns_result dr;

	if (!str_copys(&name, "_mta-sts.") || !str_cats(&name, domain))
		die_nomem();
	dr = dns_txt(name.s, &list, STS_TXT_MAX, &n);
	str_free(&name);
	if (dr == DNS_TEMP) {
		str_free(&list);
		f->record = "dns_error";
		return -1;
	}
	for (i = 0, p = list.s; dr == DNS_OK && i < n && i < STS_TXT_MAX; i++, p += strlen(p) + 1) {
		char one[MTASTS_ID_MAX + 1];
		/* dns_parse_txt refuses a record with a NUL in it, so each
		 * one here ends at its own NUL */
		r = mtasts_txt(p, strlen(p), one);
		if (r == 0)
			continue;
		sts++;
		if (r == -1)
			bad = 1;
		else
			memcpy(id, one, sizeof one);
	}
	str_free(&list);
	if (n > STS_TXT_MAX)
		bad = 1; /* records not looked at could be STS records too */
	if (sts == 1 && !bad) {
		f->record = "yes";
		return 1;
	}
	f->record = sts ? "invalid" : "none";
	id[0] = 0; /* a valid record's id among invalid ones is no id of the domain's */
	return 0;
}

static void cache_path(struct str *path, const char *domain)
{
	if (!home_path(path, STS_DIR) || !str_catc(path, '/') || !str_cats(path, domain))
		die_nomem();
}

/* The cached policy of domain, if one is there and in its max_age:
 * 1 with *p, id and *fetched; 0 none. */
static int cache_read(const char *domain, time_t now, struct mtasts_policy *p, char id[MTASTS_ID_MAX + 1],
                      long long *fetched, time_t *tried)
{
	struct str path = STR_INIT, text = STR_INIT;
	const char *body, *why;
	size_t len;
	struct stat st;
	int ok = 0, fd;

	cache_path(&path, domain);
	/* a regular file only: a FIFO a taken-over postern-remote left there
	 * must not hold every later delivery to the domain in open() or
	 * read() (O_NONBLOCK), nor a symlink lead elsewhere (O_NOFOLLOW) */
	fd = open_read(path.s);
	if (fd != -1 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && read_fd(fd, &text, STS_CACHE_MAX) == 1 &&
	    mtasts_cache_parse(text.s, text.len, id, fetched, &body, &len) == 0 &&
	    mtasts_policy_parse(body, len, p, &why) == 0 && *fetched <= (long long)now &&
	    (long long)now - *fetched < (long long)p->max_age) {
		ok = 1;
		*tried = st.st_mtime; /* written, or touched by a fetch that failed */
	}
	if (fd != -1)
		(void)close(fd); /* read only */
	str_free(&path);
	str_free(&text);
	return ok;
}

/* The policy as fetched, kept for later runs: written to a file of its
 * own and renamed over the old one, so that a reader sees one or the
 * other whole.  A cache that cannot be written is no reason to hold
 * mail: the next run fetches again. */
static void cache_write(const char *domain, const char *id, long long fetched, const char *body, size_t len)
{
	struct str path = STR_INIT, tmp = STR_INIT, text = STR_INIT;

	cache_path(&path, domain);
	if (!home_path(&tmp, STS_DIR) || !str_cats(&tmp, "/.tmp.") || !str_catu(&tmp, (unsigned long long)getpid()) ||
	    !mtasts_cache_format(&text, id, fetched, body, len))
		die_nomem();
	if (file_replace(path.s, tmp.s, text.s, text.len, 0600, 0) == -1) {
		struct logline l = { STR_INIT };
		log_begin(&l, "warning");
		log_kv(&l, "event", "mtasts_cache_unwritable");
		log_kv(&l, "file", path.s);
		log_kv(&l, "sys", strerror(errno));
		log_end(&l);
	}
	str_free(&path);
	str_free(&tmp);
	str_free(&text);
}

/* A fetch of a policy in use failed: the cache file's time says when,
 * so that the next try waits STS_RETRY_SECS. */
static void cache_touch(const char *domain)
{
	struct str path = STR_INIT;

	cache_path(&path, domain);
	(void)utimensat(AT_FDCWD, path.s, 0, AT_SYMLINK_NOFOLLOW);
	str_free(&path);
}

static void close_all(int *fds, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (fds[i] != -1)
			(void)close(fds[i]);
}

/* Everything the engine hands on until the server closes, within the
 * deadline and STS_RESPONSE_MAX.  0, or -1 with *why. */
static int read_response(int fd, long long deadline, struct str *out, const char **why)
{
	char buf[8192];

	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		long long left = deadline - monotonic_ms();
		ssize_t r;
		if (left <= 0) {
			*why = "timed out reading the policy";
			return -1;
		}
		r = poll(&p, 1, (int)left);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			*why = "unable to wait for the policy";
			return -1;
		}
		if (r == 0)
			continue; /* the deadline, seen above */
		r = read(fd, buf, sizeof buf);
		if (r == -1 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r == -1) {
			*why = "unable to read the policy";
			return -1;
		}
		if (r == 0)
			return 0;
		if ((size_t)r > STS_RESPONSE_MAX - out->len) {
			*why = "the response is too long";
			return -1;
		}
		if (!str_catb(out, buf, (size_t)r))
			die_nomem();
	}
}

/* One HTTPS GET of the policy at one address.  0 with the body in out,
 * or -1 with why. */
static int fetch_at(const struct addr *a, const char *host, long long deadline, struct str *out, struct str *why)
{
	static struct tls_report rep;
	struct str req = STR_INIT, resp = STR_INIT, dec = STR_INIT;
	const char *body, *bad = 0;
	size_t len;
	long long left = deadline - monotonic_ms();
	int fd, fds[3] = { -1, -1, -1 }, r = -1;

	if (left <= 0) {
		if (!str_copys(why, "timed out"))
			die_nomem();
		return -1;
	}
	fd = tcp_dial(a, (int)((left + 999) / 1000));
	if (fd == -1) {
		if (!str_copys(why, "unable to connect: ") || !str_cats(why, strerror(errno)))
			die_nomem();
		return -1;
	}
	if (tls_client_engine(fd, TLS_VERIFY, a, fds, why) == -1) {
		(void)close(fd);
		return -1;
	}
	left = deadline - monotonic_ms();
	if (left <= 0 || tlsreq_handshake(fds[0], (unsigned)((left + 999) / 1000), &rep, why) == -1) {
		if (left <= 0 && !str_copys(why, "timed out"))
			die_nomem();
		goto done;
	}
	(void)close(fd); /* only the engine speaks to the server now */
	fd = -1;
	if (rep.verified != 1) { /* the engine checks; so do we */
		bad = "the certificate was not verified";
		goto done;
	}
	/* HTTP/1.0: no chunked body to expect, and the server closes when
	 * it is done, which is how the end is known */
	if (!str_cats(&req, "GET /.well-known/mta-sts.txt HTTP/1.0\r\nHost: ") || !str_cats(&req, host) ||
	    !str_cats(&req, "\r\nUser-Agent: postern\r\nAccept: text/plain\r\nConnection: close\r\n\r\n"))
		die_nomem();
	if (write_all(fds[2], req.s, req.len) == -1) {
		bad = "unable to send the request";
		goto done;
	}
	if (read_response(fds[1], deadline, &resp, &bad) == -1)
		goto done;
	if (mtasts_http_response(resp.s ? resp.s : "", resp.len, &dec, &body, &len, &bad) == -1)
		goto done;
	if (!str_copyb(out, body, len))
		die_nomem();
	r = 0;
done:
	if (bad && !str_copys(why, bad))
		die_nomem();
	if (fd != -1)
		(void)close(fd);
	close_all(fds, 3);
	str_free(&req);
	str_free(&resp);
	str_free(&dec);
	return r;
}

/* The policy at https://mta-sts.DOMAIN/.well-known/mta-sts.txt, each of
 * the name's addresses in turn.  0 with the body, or -1 (f->fetch says
 * why). */
static int fetch(const char *domain, struct str *body, struct found *f)
{
	static struct addr addrs[STS_ADDRS_MAX];
	static struct str why;
	struct str host = STR_INIT;
	long long deadline = monotonic_ms() + STS_FETCH_MS;
	size_t n = 0, i;
	enum dns_result dr;

	if (!str_copys(&host, "mta-sts.") || !str_cats(&host, domain))
		die_nomem();
	dr = dns_addrs(host.s, 443, 0, addrs, STS_ADDRS_MAX, &n);
	f->fetch = dr == DNS_TEMP ? "DNS failure looking up the policy host" : "the policy host has no address";
	for (i = 0; i < n; i++) {
		why.len = 0;
		/* this host's own addresses: no one else's policy is there,
		 * and a stranger's DNS must not make us knock on them */
		if (addr_is_local(addrs + i)) {
			f->fetch = "the policy host is this host";
			continue;
		}
		/* the name the certificate must bear, and SNI */
		if (host.len >= sizeof addrs[i].host)
			break;
		memcpy(addrs[i].host, host.s, host.len + 1);
		if (fetch_at(addrs + i, host.s, deadline, body, &why) == 0) {
			str_free(&host);
			f->fetch = 0;
			return 0;
		}
		f->fetch = why.s ? why.s : "failed";
	}
	str_free(&host);
	return -1;
}

/* The policy that applies to domain now: 1 with *p, 0 none. */
/* The policy fetched now, read and cached: 1 with *p; 0 with f->fetch
 * saying why not, *p as it was. */
static int fetch_policy(const char *domain, time_t now, struct mtasts_policy *p, struct found *f)
{
	struct mtasts_policy fresh;
	struct str body = STR_INIT;
	const char *why;
	int ok = 0;

	if (fetch(domain, &body, f) == 0) {
		if (mtasts_policy_parse(body.s ? body.s : "", body.len, &fresh, &why) == 0) {
			cache_write(domain, f->id, (long long)now, body.s ? body.s : "", body.len);
			*p = fresh;
			ok = 1;
		} else {
			f->fetch = why;
		}
	}
	str_free(&body);
	return ok;
}

static int policy_for(const char *domain, struct mtasts_policy *p, struct found *f)
{
	char cid[MTASTS_ID_MAX + 1];
	long long fetched = 0;
	time_t now = time(0), tried = 0;
	int cached, rec;

	f->source = "-";
	f->fetch = 0;
	f->id[0] = 0;
	if (now == (time_t)-1)
		now = 0; /* no cache is then in its max_age */
	cached = cache_read(domain, now, p, cid, &fetched, &tried);
	rec = record_id(domain, f->id, f);
	if (rec == 1 && cached && strcmp(cid, f->id) == 0) {
		f->source = "cache";
		/* RFC 8461 5.1, 10.2: a policy in use is fetched again once past
		 * half its max_age, so that it does not run out under a domain
		 * whose mail keeps coming (the id need not change for that); a
		 * try that fails leaves the cache as it is, and the next waits
		 * an hour, so that a server that is down costs one fetch an
		 * hour, not one a delivery */
		if ((long long)now - fetched > (long long)(p->max_age / 2) && (long long)(now - tried) >= STS_RETRY_SECS) {
			if (fetch_policy(domain, now, p, f))
				f->source = "refreshed";
			else
				cache_touch(domain);
		}
		return 1;
	}
	if (rec == 1 && fetch_policy(domain, now, p, f)) {
		f->source = "fetched";
		return 1;
	}
	/* no record, a failed lookup or fetch: a policy still in its
	 * max_age stands (RFC 8461 5.1), which is what the cache is for */
	if (cached) {
		memcpy(f->id, cid, sizeof cid);
		f->source = "cache";
		return 1;
	}
	return 0;
}

static const char *mode_name(enum mtasts_mode m)
{
	return m == MTASTS_ENFORCE ? "enforce" : m == MTASTS_TESTING ? "testing" : "none";
}

/* Under dane-sts, an address whose host DANE decided for (dane.c): secure
 * TLSA records, usable or not, or a lookup that failed.  RFC 8461 2: DANE
 * wins for such a host, and the policy does not apply to it. */
static int dane_decided(const struct addr *a) { return a->tls != TLS_MAY || a->tlsa_temp; }

int sts_plan(struct addr *a, size_t *n, const char *domain, int via_mx, int dane_first, const char *qid,
             struct str *why)
{
	struct mtasts_policy p;
	struct found f = { "-", "-", 0, "" };
	size_t i, k, hosts_out = 0, by_dane = 0;
	int have;
	struct logline l = { STR_INIT };
	struct str lower = STR_INIT;

	for (i = 0; i < *n; i++) {
		a[i].sts_testing = a[i].sts_named = 0;
		if (dane_first && dane_decided(a + i))
			by_dane++;
		else
			a[i].tls = TLS_MAY;
	}
	/* a route or an address literal: the admin chose the host, and
	 * MTA-STS speaks of a domain's MX hosts only; and with DANE for
	 * every host there is nothing left for a policy to say */
	if (!via_mx || by_dane == *n)
		return 0;
	/* the cache file's name: the domain as DNS has it, in lower case */
	if (!str_copys(&lower, domain))
		die_nomem();
	lowercase(lower.s, lower.len);
	have = policy_for(lower.s, &p, &f);
	str_free(&lower);
	log_begin(&l, "mtasts");
	log_kv(&l, "qid", qid);
	log_kv(&l, "domain", domain);
	log_kv(&l, "record", f.record);
	if (f.id[0])
		log_kv(&l, "id", f.id);
	if (f.fetch)
		log_kv(&l, "fetch_failed", f.fetch);
	log_kv(&l, "policy", have ? f.source : "none");
	if (have) {
		log_kv(&l, "mode", mode_name(p.mode));
		log_kvu(&l, "max_age", p.max_age);
	}
	if (have && p.mode != MTASTS_NONE) {
		/* which MX hosts the policy names; under enforce only those */
		for (i = k = 0; i < *n; i++) {
			if (dane_first && dane_decided(a + i)) {
				a[k++] = a[i];
				continue;
			}
			/* testing: every host, as may; what enforce would say of
			 * each is smtp.c's to log */
			a[i].sts_testing = p.mode == MTASTS_TESTING;
			if (mtasts_mx_match(&p, a[i].host, strlen(a[i].host))) {
				if (p.mode == MTASTS_ENFORCE)
					a[i].tls = TLS_VERIFY;
				a[i].sts_named = 1;
				a[k++] = a[i];
			} else {
				hosts_out++;
				if (p.mode == MTASTS_TESTING)
					a[k++] = a[i];
			}
		}
		*n = k;
		log_kvu(&l, p.mode == MTASTS_ENFORCE ? "addresses_left_out" : "addresses_not_matching", hosts_out);
	}
	if (by_dane)
		log_kvu(&l, "addresses_under_dane", by_dane);
	log_end(&l);
	if (have && p.mode == MTASTS_ENFORCE && *n == 0) {
		if (!str_copys(why, "no MX host of the domain is one its MTA-STS policy names (4.7.0)"))
			die_nomem();
		return 1;
	}
	return 0;
}
