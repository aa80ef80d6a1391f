/* Asking postern-tlsd for a TLS engine, and starting it: the application
 * side of doc/tls.md, shared by postern-smtpd (request `S`) and
 * postern-remote (request `C`).  The application hands over the network
 * fds and the engine's ends of a control socket and two pipes, keeps its
 * own ends, writes `Y` on the control socket, and reads the SSL_* report.
 * Every wait is bounded, and every failure leaves a reason in why. */
#ifndef POSTERN_TLSREQ_H
#define POSTERN_TLSREQ_H
#include <stddef.h>
#include "str.h"

#define TLSREQ_SOCKET "run/tlsd/socket" /* under HOME */
#define TLSREQ_WAIT_S 10                /* doc/tls.md: the wait for K or Z */

/* What the engine reported; "" for a string it did not send. */
struct tls_report {
	struct str protocol, cipher, sni;
	/* SSL_PEER_VERIFY_ERROR: postern-tlsio's policy t says why a chain
	 * it took would not have passed policy v, as it came (the reader
	 * cleans it before it logs it) */
	struct str verify_error;
	int verified; /* SSL_PEER_VERIFIED: 1, 0, or -1 not reported */
};

/* HOME/run/tlsd/socket, made once. */
const char *tlsreq_path(void);
/* Asks postern-tlsd for an engine: req (n bytes) is the record's data,
 * netr and netw the network fds it gets (they stay ours too).  0 with
 * fds[0] the control socket, fds[1] the pipe to read the peer's
 * plaintext from, fds[2] the pipe to write ours into (all close-on-exec,
 * blocking); -1 with why set and nothing of ours left open. */
int tlsreq_start(const char *req, size_t n, int netr, int netw, int fds[3], struct str *why);
/* Writes `Y` on ctl and reads the report, within timeout_s seconds.
 * 0 with rep filled, -1 with why set (the handshake failed).  The three
 * fds stay the caller's to close either way. */
int tlsreq_handshake(int ctl, unsigned timeout_s, struct tls_report *rep, struct str *why);
#endif
