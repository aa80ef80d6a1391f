/* The socket is every local user's to connect to (the directory's mode
 * decides, and the uid is checked after the connect), and a postern-popup
 * taken over from the network may send malformed records as fast as we
 * close them: neither may fill the log.  At most REFUSALS_LOGGED lines a
 * second; the next line says how many were left out.  The stop line
 * counts them all. */
#include <time.h>
#include "auth.h"
#include "log.h"

#define REFUSALS_LOGGED 5

void log_refused(uid_t uid, const char *why, const char *sys)
{
	static time_t second;
	static unsigned long long in_second, left_out;
	struct logline l = { STR_INIT };
	time_t now = time(0);

	if (now != second) {
		second = now;
		in_second = 0;
	}
	if (++in_second > REFUSALS_LOGGED) {
		left_out++;
		return;
	}
	log_begin(&l, "refused");
	log_kvu(&l, "uid", (unsigned long long)uid);
	log_kv(&l, "why", why);
	if (sys)
		log_kv(&l, "sys", sys);
	if (left_out)
		log_kvu(&l, "not_logged_before", left_out);
	left_out = 0;
	log_end(&l);
}
