/* One connection from postern-popup or postern-smtpd -a (doc/pop3.md): its
 * one request read within REQUEST_MS, checked, answered K, N or Z,
 * logged, and the connection closed.  A request that is not exactly
 * right gets no answer at all, nor does a P from a uid served for checks
 * only (postern-submit's), nor a login whose hand-over ended in doubt
 * (pspawn.c): postern-popup then hangs up without a word, since
 * postern-pop3d may have the client.  The password is only ever in rec, which is wiped
 * before this returns, whatever happened; no log line holds it. */
#include <errno.h>
#include <sodium.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "auth.h"
#include "die.h"
#include "fdpass.h"
#include "hungup.h"
#include "log.h"
#include "refusal.h"
#include "seconds.h"
#include "service.h"

/* The record is one send away once postern-popup connects: a peer that
 * has not sent it by then is stuck or hostile, and everyone else waits. */
#define REQUEST_MS 5000

struct outcome {
	char code;        /* K, N, Z, or U: unknown, no answer at all */
	const char *why;  /* for the log; for Z also the answer's text */
	const char *sys;
	struct str text;  /* holds why when it is not a constant */
};

static void answer(int conn, const struct outcome *o)
{
	char a[1 + TEXT_MAX];
	size_t n = 0;

	a[n++] = o->code;
	if (o->code == 'Z') {
		const char *t = o->why && o->why[0] ? o->why : "temporary failure";
		size_t len = strlen(t);
		if (len > TEXT_MAX)
			len = TEXT_MAX;
		memcpy(a + n, t, len);
		n += len;
	}
	/* a postern-popup that cannot take one record at once has gone: the
	 * log line says what it was told all the same */
	(void)service_answer(conn, a, n);
}

/* Decides the answer to a well-formed request; for P, a matching
 * password hands the connection (fds) to postern-pspawn, unless
 * postern-popup (conn) has gone meanwhile: it has given up on the login,
 * and would not know that the client was taken from it. */
static void decide(int conn, const struct request *req, const int fds[2], const struct serve_paths *paths,
                   struct outcome *o)
{
	const char *hash;
	int err, v, gone;
	time_t now = seconds_now();

	/* no check at all: a guesser learns nothing, and costs nothing */
	if (throttle_blocked(req->ip, req->iplen, now)) {
		o->code = 'Z';
		o->why = "too many wrong passwords from this address; try again later";
		return;
	}
	o->why = pwfile_load(paths->passwd, &err);
	if (o->why) {
		o->code = 'Z';
		o->sys = err ? strerror(err) : 0;
		return;
	}
	hash = pwfile_hash(req->user, req->userlen, &o->why);
	v = verify(hash, req->password, req->passwordlen);
	if (v == -1) {
		o->code = 'Z';
		o->why = "unable to check the password";
		o->sys = strerror(errno);
	} else if (v == 0) {
		o->code = 'N';
		if (!o->why)
			o->why = "wrong password";
		throttle_failed(req->ip, req->iplen, now);
	} else if (req->type == 'C') {
		o->code = 'K';
	} else if ((gone = hung_up(conn)) != 0) {
		o->code = 'Z';
		o->why = gone == 1 ? "postern-popup hung up before the hand-over" : "unable to poll postern-popup's connection";
		o->sys = gone == 1 ? 0 : strerror(errno);
	} else {
		v = pspawn_hand(paths->pspawn, req, fds, &o->text, &o->sys);
		o->code = v == 0 ? 'K' : v == -1 ? 'Z' : 'U';
		o->why = v == 0 ? 0 : o->text.s;
	}
}

static const char *result(char code)
{
	switch (code) {
	case 'K': return "ok";
	case 'N': return "fail";
	case 'Z': return "tempfail";
	}
	return "unknown";
}

static void log_auth(const struct request *req, const struct outcome *o, long long ms)
{
	struct logline l = { STR_INIT };

	log_begin(&l, "auth");
	log_kvb(&l, "user", req->user, req->userlen);
	log_kvb(&l, "ip", req->ip, req->iplen);
	log_kv(&l, "result", result(o->code));
	log_kv(&l, "request", req->type == 'P' ? "login" : "check");
	if (o->code != 'K' && o->why)
		log_kv(&l, "why", o->why);
	if (o->sys)
		log_kv(&l, "sys", o->sys);
	log_kvu(&l, "ms", (unsigned long long)ms);
	log_end(&l);
}

void serve(int conn, uid_t uid, int checks_only, const struct serve_paths *paths, struct serve_counts *counts)
{
	char rec[RECORD_MAX];
	int fds[2] = { -1, -1 };
	struct outcome o = { 'Z', 0, 0, STR_INIT };
	struct request req;
	const char *why = 0;
	size_t n = 0, nfds = 0;
	long long start = monotonic_ms();
	int r = wait_readable(conn, REQUEST_MS);

	if (r != 1)
		why = r ? "unable to wait for the request" : "no request within 5 s";
	else if ((r = fdpass_recv(conn, rec, sizeof rec, &n, fds, 2, &nfds, MSG_DONTWAIT)) == -1)
		why = errno == EMSGSIZE ? "record too long or more than two descriptors" : "unable to receive the request";
	else if (r == 0)
		why = "empty record, or closed without a request";
	else if (!(why = request_parse(rec, n, nfds, &req)) && req.type == 'P' && checks_only)
		/* before the password is looked at: such a peer learns nothing
		 * from a P that a C would not tell it, and nothing is started */
		why = "login request from a check-only uid";
	if (why) {
		counts->refused++;
		/* a postern-popup or postern-smtpd taken over may send these as
		 * fast as they are closed: at most a few lines a second */
		refusal_log("refused", uid, why, r == -1 && errno != EMSGSIZE ? strerror(errno) : 0, 0);
	} else {
		decide(conn, &req, fds, paths, &o);
	}
	/* ours are closed before the answer: postern-pop3d, if started, is
	 * then the only holder besides postern-popup */
	fdpass_close(fds, nfds);
	if (!why) {
		/* the line before the answer: postern-popup's lines about this
		 * login come after ours in the log */
		log_auth(&req, &o, monotonic_ms() - start);
		if (o.code != 'U')
			answer(conn, &o);
		counts->ok += o.code == 'K';
		counts->fail += o.code == 'N';
		counts->tempfail += o.code == 'Z';
		counts->unknown += o.code == 'U';
	}
	sodium_memzero(rec, sizeof rec);
	str_free(&o.text);
	if (close(conn) == -1)
		warn_sys("warning: unable to close a connection");
}
