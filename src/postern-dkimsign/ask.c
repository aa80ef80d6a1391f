/* The exchange with postern-dkim (doc/dkim.md, "The record exchange"):
 * one connection per message, the From domain first, then one digest per
 * key.  Every wait is bounded, so a stuck key holder turns into a
 * temporary failure the client retries, never a session held for good. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "dkimsign.h"
#include "dkim.h"
#include "home.h"
#include "unixsock.h"

#define DKIM_SOCKET "run/dkim/socket"
#define CONNECT_S 10
#define ANSWER_MS 30000
/* K, a domain and two keys with their selectors; or G and a signature
 * of an RSA key of 4096 bits (512 bytes) */
#define RECORD_MAX 2048

static int conn = -1;

void ask_close(void)
{
	if (conn != -1)
		close(conn);
	conn = -1;
}

static int put(const unsigned char *rec, size_t n, const char **why)
{
	ssize_t w;
	do
		w = send(conn, rec, n, MSG_NOSIGNAL);
	while (w == -1 && errno == EINTR);
	if (w == (ssize_t)n)
		return 0;
	*why = "unable to write to postern-dkim";
	return -1;
}

/* One record: its length, or -1 (why set). */
static ssize_t get(unsigned char *rec, const char **why)
{
	ssize_t r = unix_recv_record(conn, rec, RECORD_MAX, ANSWER_MS);

	if (r == -1 && errno == ETIMEDOUT)
		*why = "postern-dkim did not answer in time";
	else if (r <= 0)
		*why = r == 0 ? "postern-dkim closed the connection" : "unable to read postern-dkim's answer";
	return r > 0 ? r : -1;
}

/* K DOMAIN \0 (LETTER SELECTOR \0)... into a; 0, or -1. */
static int parse_keys(const unsigned char *rec, size_t n, struct ds_answer *a)
{
	const char *p = (const char *)rec + 1, *end = (const char *)rec + n, *z;

	if (!(z = memchr(p, 0, (size_t)(end - p))) || !dkim_name_ok(p, (size_t)(z - p)))
		return -1;
	if (!str_copyb(&a->domain, p, (size_t)(z - p)))
		return -1;
	for (p = z + 1; p < end; p = z + 1) {
		struct ds_key *k;
		if (a->nkeys == DS_KEYS_MAX || (*p != 'r' && *p != 'e'))
			return -1;
		if (a->nkeys == 1 && a->keys[0].alg == *p)
			return -1;
		if (!(z = memchr(p, 0, (size_t)(end - p))) || !dkim_name_ok(p + 1, (size_t)(z - p - 1)))
			return -1;
		k = &a->keys[a->nkeys++];
		k->alg = *p;
		if (!str_copyb(&k->selector, p + 1, (size_t)(z - p - 1)))
			return -1;
	}
	return a->nkeys ? 0 : -1;
}

int ask_keys(const struct str *dom, struct ds_answer *a, const char **why)
{
	unsigned char rec[RECORD_MAX];
	struct str path = STR_INIT;
	ssize_t n;

	if (!home_path(&path, DKIM_SOCKET)) {
		*why = "out of memory";
		return -1;
	}
	conn = unix_connect(path.s, CONNECT_S);
	str_free(&path);
	if (conn == -1) {
		*why = "unable to connect to postern-dkim";
		return -1;
	}
	if (dom->len + 1 > sizeof rec) {
		*why = "domain too long";
		return -1;
	}
	rec[0] = 'D';
	memcpy(rec + 1, dom->s, dom->len);
	if (put(rec, dom->len + 1, why) == -1 || (n = get(rec, why)) == -1)
		return -1;
	if (n == 1 && rec[0] == 'N')
		return 0;
	if (rec[0] != 'K' || parse_keys(rec, (size_t)n, a) == -1) {
		*why = "postern-dkim's answer is malformed";
		return -1;
	}
	return 1;
}

int ask_sign(struct ds_key *k, const unsigned char digest[32], const char **why)
{
	unsigned char rec[RECORD_MAX];
	ssize_t n;

	rec[0] = 'S';
	rec[1] = (unsigned char)k->alg;
	memcpy(rec + 2, digest, 32);
	if (put(rec, 34, why) == -1 || (n = get(rec, why)) == -1)
		return -1;
	if (rec[0] == 'F') {
		*why = "postern-dkim refused to sign";
		return -1;
	}
	/* Ed25519: 64 bytes; RSA: the modulus' size, 2048 to 4096 bits */
	if (rec[0] != 'G' || (k->alg == 'e' ? n != 65 : (n < 257 || n > 513))) {
		*why = "postern-dkim's signature is malformed";
		return -1;
	}
	if (!str_copyb(&k->sig, (const char *)rec + 1, (size_t)n - 1)) {
		*why = "out of memory";
		return -1;
	}
	return 0;
}
