/* The engine loop: BearSSL says which of its four buffers wants bytes
 * (records to send, records received, plaintext to encrypt, plaintext
 * decrypted), poll says which descriptor is ready, and this moves the
 * bytes.  Every descriptor is non-blocking, so a client that stops reading
 * can never stop the application's side, and the other way round; the
 * deadlines bound what a client can hold: the handshake, and the goodbye. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include "tlsio.h"
#include "die.h"
#include "fmt.h"
#include "log.h"
#include "seconds.h"

#define HANDSHAKE_MS 60000 /* from the application's y to a finished handshake */
#define CLOSE_MS 10000     /* from the application's EOF to our close_notify sent */

static void nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl == -1 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1)
		die_sys(111, "fatal: unable to make a descriptor non-blocking");
}

/* BearSSL hands over a flight of handshake records a record at a time:
 * with Nagle's algorithm on, the second write waits for the peer's
 * delayed ACK of the first, 40 ms a flight (a STARTTLS session took 49 ms
 * instead of 9).  Not a TCP socket (a pipe, a Unix socket): nothing to do. */
static void no_delay(int fd)
{
	int one = 1;
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == -1 && errno != ENOTSOCK &&
	    errno != EOPNOTSUPP && errno != ENOPROTOOPT && errno != EINVAL)
		die_sys(111, "fatal: unable to set TCP_NODELAY");
}

static const char *error_name(int err)
{
	/* the certificate a client refused (an error of ours, no alert bits);
	 * policy d knows better than "not trusted" why */
	const char *x509 = x509_error_name(err);

	if (err == BR_ERR_X509_NOT_TRUSTED && danex509_why)
		return danex509_why;
	if (x509)
		return x509;
	/* past 256 the low byte is the alert's code, not one of BearSSL's errors */
	if (err >= BR_ERR_SEND_FATAL_ALERT)
		return "fatal alert sent";
	if (err >= BR_ERR_RECV_FATAL_ALERT)
		return "fatal alert received";
	switch (err) {
	case BR_ERR_UNSUPPORTED_VERSION: return "no TLS 1.2 offered";
	case BR_ERR_BAD_VERSION: return "bad version";
	case BR_ERR_BAD_MAC: return "bad record MAC";
	case BR_ERR_BAD_CIPHER_SUITE: return "no common cipher suite";
	case BR_ERR_BAD_HANDSHAKE: return "bad handshake message";
	case BR_ERR_BAD_SNI: return "bad server name";
	case BR_ERR_BAD_FINISHED: return "bad Finished";
	case BR_ERR_INVALID_ALGORITHM: return "no common signature algorithm";
	case BR_ERR_UNEXPECTED: return "unexpected message";
	case BR_ERR_UNKNOWN_TYPE: return "not TLS";
	case BR_ERR_TOO_LARGE: return "record too large";
	case BR_ERR_LIMIT_EXCEEDED: return "limit exceeded";
	default: return "TLS error";
	}
}

static void log_failure(const char *what, int handshaken, int err)
{
	struct logline l = { STR_INIT };
	log_begin(&l, "failed");
	log_kv(&l, "stage", handshaken ? "session" : "handshake");
	log_kv(&l, "why", what);
	if (err) {
		log_kvu(&l, "error", (unsigned long long)err);
		if (err >= BR_ERR_RECV_FATAL_ALERT)
			log_kvu(&l, "alert", (unsigned long long)(err & 0xFF));
	}
	log_end(&l);
}

/* One step for a descriptor poll said is ready.  0 go on, 1 the session
 * is over cleanly, -1 it failed (logged). */
static int step(br_ssl_engine_context *eng, int fd, int *app_eof, int *app_gone, int handshaken)
{
	unsigned st = br_ssl_engine_current_state(eng);
	unsigned char *buf;
	size_t len;
	ssize_t r;

	if (fd == FD_NET_OUT && (st & BR_SSL_SENDREC)) {
		buf = br_ssl_engine_sendrec_buf(eng, &len);
		r = write(fd, buf, len);
		if (r > 0)
			br_ssl_engine_sendrec_ack(eng, (size_t)r);
		else if (r == -1 && errno != EAGAIN && errno != EINTR) {
			log_failure("client gone", handshaken, 0);
			return -1;
		}
	} else if (fd == FD_NET_IN && (st & BR_SSL_RECVREC)) {
		buf = br_ssl_engine_recvrec_buf(eng, &len);
		r = read(fd, buf, len);
		if (r > 0)
			br_ssl_engine_recvrec_ack(eng, (size_t)r);
		else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
			if (!handshaken) {
				log_failure("client closed", 0, 0);
				return -1;
			}
			return 1; /* closed without close_notify: the application sees EOF */
		}
	} else if (fd == FD_APP_IN && (st & BR_SSL_SENDAPP) && !*app_eof) {
		buf = br_ssl_engine_sendapp_buf(eng, &len);
		r = read(fd, buf, len);
		if (r > 0) {
			br_ssl_engine_sendapp_ack(eng, (size_t)r);
			br_ssl_engine_flush(eng, 0);
		} else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
			*app_eof = 1;
			br_ssl_engine_close(eng);
		}
	} else if (fd == FD_APP_OUT && (st & BR_SSL_RECVAPP)) {
		buf = br_ssl_engine_recvapp_buf(eng, &len);
		r = *app_gone ? (ssize_t)len : write(fd, buf, len);
		if (r > 0)
			br_ssl_engine_recvapp_ack(eng, (size_t)r);
		else if (errno != EAGAIN && errno != EINTR) {
			/* the application is gone: what the client still sends is dropped */
			*app_gone = *app_eof = 1;
			br_ssl_engine_close(eng);
		}
	}
	return 0;
}

int pump(br_ssl_engine_context *eng, void (*report)(br_ssl_engine_context *))
{
	int app_eof = 0, app_gone = 0, app_hup = 0, handshaken = 0;
	long long deadline = monotonic_ms() + HANDSHAKE_MS;

	nonblock(FD_APP_IN);
	nonblock(FD_APP_OUT);
	nonblock(FD_NET_IN);
	nonblock(FD_NET_OUT);
	no_delay(FD_NET_OUT);
	for (;;) {
		struct pollfd p[4];
		unsigned st = br_ssl_engine_current_state(eng);
		long long left;
		int n = 0, i, r;

		if (st == BR_SSL_CLOSED) {
			int err = br_ssl_engine_last_error(eng);
			if (err == BR_ERR_OK)
				return 0;
			log_failure(policy_no_certificate ? "no certificate from postern-keys" : error_name(err),
			            handshaken, err);
			return -1;
		}
		if (!handshaken && (st & (BR_SSL_SENDAPP | BR_SSL_RECVAPP))) {
			handshaken = 1;
			deadline = 0;
			report(eng);
		}
		/* Our close_notify is out: the client's answer is not waited
		 * for (RFC 5246 7.2.1 does not ask the closing side to read it),
		 * and a client that never sends one must not hold the engine. */
		if (app_eof && !(st & BR_SSL_SENDREC))
			return 0;
		if (app_eof && !deadline)
			deadline = monotonic_ms() + CLOSE_MS;
		if (st & BR_SSL_SENDREC)
			p[n++] = (struct pollfd){ FD_NET_OUT, POLLOUT, 0 };
		if (st & BR_SSL_RECVREC)
			p[n++] = (struct pollfd){ FD_NET_IN, POLLIN, 0 };
		if ((st & BR_SSL_SENDAPP) && !app_eof)
			p[n++] = (struct pollfd){ FD_APP_IN, POLLIN, 0 };
		else if (handshaken && !app_eof && !app_hup)
			/* BearSSL takes no plaintext while a record waits for a
			 * client that does not read: watch for the application's
			 * end all the same (POLLHUP needs no event asked for), or
			 * such a client would hold the engine for its lifetime */
			p[n++] = (struct pollfd){ FD_APP_IN, 0, 0 };
		if (st & BR_SSL_RECVAPP)
			p[n++] = (struct pollfd){ FD_APP_OUT, POLLOUT, 0 };
		left = deadline ? deadline - monotonic_ms() : -1;
		if (deadline && left <= 0) {
			log_failure(handshaken ? "timed out closing" : "handshake timed out", handshaken, 0);
			return -1;
		}
		r = poll(p, (nfds_t)n, left > 0 && left < 0x7fffffff ? (int)left : -1);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			die_sys(111, "fatal: poll failed");
		}
		for (i = 0; i < n; i++) {
			if (!p[i].revents)
				continue;
			if (!p[i].events) {
				app_hup = 1;
				if (!deadline)
					deadline = monotonic_ms() + CLOSE_MS;
				continue;
			}
			r = step(eng, p[i].fd, &app_eof, &app_gone, handshaken);
			if (r != 0)
				return r == 1 ? 0 : -1;
		}
	}
}
