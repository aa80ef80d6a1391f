/* postern-popup's settings (doc/control.md): control/me for the greeting,
 * timeoutpop3, timeoutpop3login, pop3plaintext and starttls.  A file that is there but
 * cannot be read, or holds no number, fails the connection: never the
 * default in its place (pop3plaintext's default is the safe one, but a
 * broken file may mean the admin wanted otherwise). */
#include <errno.h>
#include <unistd.h>
#include "popup.h"
#include "addr.h"
#include "control.h"
#include "die.h"

struct config cfg;

static int num(const char *name, unsigned long long *v, unsigned long long def, unsigned long long max)
{
	if (control_num(name, v, def) == -1) {
		warn_sys("unable to read control/", name);
		return -1;
	}
	if (*v > max) {
		warn("control/", name, " is out of range");
		return -1;
	}
	return 0;
}

int config_load(void)
{
	int r = control_line("me", &cfg.me);

	if (r == -1) {
		warn_sys("unable to read control/me");
		return -1;
	}
	if (r == 0) {
		char host[256];
		if (gethostname(host, sizeof host - 1) == -1) {
			warn_sys("unable to find the host's name");
			return -1;
		}
		host[sizeof host - 1] = 0;
		if (!str_copys(&cfg.me, host))
			die_nomem();
	}
	if (!domain_check(cfg.me.s, cfg.me.len)) {
		warn("control/me is not a domain name");
		return -1;
	}
	if (num("timeoutpop3", &cfg.timeout, 600, 86400) == -1 || num("timeoutpop3login", &cfg.login, 120, 86400) == -1 ||
	    num("pop3plaintext", &cfg.plaintext, 0, 1) == -1 ||
	    num("starttls", &cfg.starttls, 1, ~0ULL) == -1)
		return -1;
	if (cfg.timeout == 0 || cfg.login == 0) {
		warn("control/timeoutpop3 and timeoutpop3login must be at least 1");
		return -1;
	}
	return 0;
}
