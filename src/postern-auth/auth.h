/* postern-auth's pieces; main.c has the service, doc/pop3.md the records
 * and the password file. */
#ifndef POSTERN_AUTH_H
#define POSTERN_AUTH_H
#include <stddef.h>
#include <time.h>
#include <sys/types.h>
#include "pop3limits.h"
#include "remoteip.h"
#include "str.h"

#define RECORD_MAX 1400   /* a request from postern-popup, whole */
#define IP_MAX REMOTEIP_MAX
#define TEXT_MAX 200      /* the text of a Z answer */

/* One request as doc/pop3.md has it.  The fields point into the record
 * (each NUL-terminated there), which holds the password: the caller wipes
 * it when done. */
struct request {
	char type; /* 'P' log in and hand the connection on, 'C' only check */
	const char *user, *password, *ip;
	size_t userlen, passwordlen, iplen;
};

/* request.c: checks rec (n bytes, arriving with nfds descriptors) and
 * fills *req.  0 when it is exactly right, or why it is refused. */
const char *request_parse(const char *rec, size_t n, size_t nfds, struct request *req);

/* pwfile.c: the password file, read again when it changed.  0 with the
 * file usable, or why not (a temporary failure for every user), with
 * *err the errno of the call that failed (0 when none did). */
const char *pwfile_load(const char *path, int *err);
/* The hash of user's line, NUL-terminated; 0 when there is none, with
 * *why saying whether the name is absent or on more than one line. */
const char *pwfile_hash(const char *user, size_t n, const char **why);
void pwfile_free(void);

/* verify.c: verify_init makes the dummy hash an unknown user is checked
 * against.  verify: 1 when password matches hash (0: the dummy, which
 * never matches), 0 when it does not, -1 when the check itself failed
 * (out of memory).  Every call costs one argon2id verification. */
void verify_init(void);
int verify(const char *hash, const char *password, size_t n);

/* pspawn.c: hands the connection (fds[0], fds[1]) of req's user to
 * postern-pspawn at path and waits for its answer.  req is one that
 * request_parse accepted: its lengths bound the U record.  0 for K; -1
 * when certainly nothing was started (the record never left, or
 * postern-pspawn answered Z), with *text the reason for a Z answer
 * (postern-pspawn's own, or ours); -2 when the record left but no
 * well-formed answer came back, so that postern-pop3d may or may not have
 * the client, with *text why.  *sys is the system's word when a call
 * failed (else 0).  The caller's descriptors are left to it to close. */
int pspawn_hand(const char *path, const struct request *req, const int fds[2], struct str *text,
                const char **sys);

/* throttle.c: after failures (control/authfailures; 0: never) wrong
 * passwords from one address (an IPv6 one by its /64) within
 * THROTTLE_WINDOW seconds of its first, throttle_blocked is 1 for it
 * until that window ends.  now: seconds_now() (a monotonic clock). */
#define THROTTLE_WINDOW 600
void throttle_init(unsigned long long failures);
int throttle_blocked(const char *ip, size_t n, time_t now);
void throttle_failed(const char *ip, size_t n, time_t now);
/* The table across a restart: throttle_save writes the counts still
 * inside their window to path (through tmp and a rename) at a clean stop,
 * 0 or -1 with errno, *saved how many (none: no file); throttle_load, after
 * throttle_init, takes those still inside it and removes the file.  A
 * file that is not ours or not in the format is left unread (problem
 * says why; a bad line is skipped and counted). */
struct throttle_loaded {
	size_t kept, skipped;
	const char *problem;
};
void throttle_load(const char *path, time_t now, struct throttle_loaded *out);
/* throttle_load's reading of the file's text (len bytes), wall the wall
 * clock: out->kept and out->skipped added to, out->problem set when the
 * first line is not the format's. */
void throttle_parse(const char *text, size_t len, time_t now, time_t wall, struct throttle_loaded *out);
int throttle_save(const char *path, const char *tmp, time_t now, size_t *saved);

/* wait.c: a wait of at most ms for fd to be readable (or closed): 1 it
 * is, 0 timed out, -1 poll failed. */
int wait_readable(int fd, int ms);

/* serve.c: answers the one request of an accepted connection from a
 * served uid (conn non-blocking), logs it, and closes conn.  With
 * checks_only (a uid served for C requests only) a P is refused
 * unanswered, its descriptors closed. */
struct serve_paths {
	const char *passwd, *pspawn;
};
struct serve_counts {
	unsigned long long ok, fail, tempfail, unknown, refused;
};
void serve(int conn, uid_t uid, int checks_only, const struct serve_paths *, struct serve_counts *);
#endif
