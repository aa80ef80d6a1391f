/* postern-popup's pieces share these declarations; main.c is the session,
 * doc/pop3.md the behaviour and the byte formats. */
#ifndef POSTERN_POPUP_H
#define POSTERN_POPUP_H
#include <stddef.h>
#include "loginname.h"
#include "pop3limits.h"
#include "remoteip.h"
#include "str.h"
#include "tlsreq.h"

/* Settings from control/ (doc/control.md), read once per connection. */
struct config {
	struct str me;
	unsigned long long timeout;   /* timeoutpop3: each read and write */
	unsigned long long login;     /* timeoutpop3login: the whole login */
	unsigned long long plaintext; /* pop3plaintext: passwords in clear from afar */
	unsigned long long starttls;
};
extern struct config cfg;
int config_load(void); /* 0, or -1 with a warning logged */

/* stls.c: STLS through postern-tlsd (doc/tls.md).  tls_offer: 1 when STLS
 * may be offered; tls_begin: asks for an engine (-1: none, why set);
 * tls_handshake: starts it, 0 with the plaintext pipes in *rfd, *wfd. */
int tls_offer(void);
int tls_begin(struct str *why);
int tls_handshake(struct tls_report *rep, int *rfd, int *wfd, struct str *why);
#endif
