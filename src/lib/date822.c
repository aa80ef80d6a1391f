#include <time.h>
#include "date822.h"

static int cat2(struct str *out, int v)
{
	char b[2] = { (char)('0' + v / 10 % 10), (char)('0' + v % 10) };
	return str_catb(out, b, 2);
}

int date822_cat(struct str *out, time_t t)
{
	static const char days[] = "SunMonTueWedThuFriSat";
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	struct tm tm;

	/* gmtime_r never looks at TZ or the time zone database */
	if (!gmtime_r(&t, &tm) || tm.tm_year < -1900 + 1 || tm.tm_wday < 0 || tm.tm_wday > 6 ||
	    tm.tm_mon < 0 || tm.tm_mon > 11)
		return 0;
	return str_catb(out, days + 3 * tm.tm_wday, 3) && str_cats(out, ", ") &&
	       str_catu(out, (unsigned long long)tm.tm_mday) && str_catc(out, ' ') &&
	       str_catb(out, months + 3 * tm.tm_mon, 3) && str_catc(out, ' ') &&
	       str_catu(out, (unsigned long long)tm.tm_year + 1900) && str_catc(out, ' ') &&
	       cat2(out, tm.tm_hour) && str_catc(out, ':') && cat2(out, tm.tm_min) &&
	       str_catc(out, ':') && cat2(out, tm.tm_sec) && str_cats(out, " +0000");
}
