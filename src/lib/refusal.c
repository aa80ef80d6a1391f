#include "refusal.h"
#include "log.h"
#include "seconds.h"

void refusal_log(const char *event, uid_t uid, const char *why, const char *sys, int always)
{
	static time_t second;
	static unsigned long long in_second, left_out;
	struct logline l = { STR_INIT };
	time_t now = seconds_now();

	if (now != second) {
		second = now;
		in_second = 0;
	}
	if (!always && ++in_second > REFUSALS_LOGGED) {
		left_out++;
		return;
	}
	log_begin(&l, event);
	log_kvu(&l, "uid", (unsigned long long)uid);
	log_kv(&l, "why", why);
	if (sys)
		log_kv(&l, "sys", sys);
	if (left_out)
		log_kvu(&l, "not_logged_before", left_out);
	left_out = 0;
	log_end(&l);
}
