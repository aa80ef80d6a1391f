/* The Received header postern-smtpd puts in front of each message (RFC 5321
 * 4.4), as the first bytes it pipes to postern-queue; postern-queue adds its
 * own line above it when it commits.  Every field comes from validated input,
 * and the HELO name is further reduced to bytes that cannot end a clause or
 * open a comment, so a client cannot forge another "by" or the date. */
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "smtpd.h"
#include "date822.h"

static int helo_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '-' || c == '_' || c == ':' || c == '[' || c == ']' || c >= 0x80;
}

int received_build(struct str *out, const char *helo, const char *proto, const char *id,
                   const char *rcpt, size_t rcptlen)
{
	size_t i, n = strlen(helo);

	out->len = 0;
	if (!str_cats(out, "Received: from "))
		return 0;
	for (i = 0; i < n; i++)
		if (!str_catc(out, helo_byte((unsigned char)helo[i]) ? helo[i] : '?'))
			return 0;
	if (client.local) {
		if (!str_cats(out, " (invoked by uid ") || !str_catu(out, (unsigned long long)getuid()) ||
		    !str_cats(out, ")\n\tby ") || !str_cat(out, &cfg.me) ||
		    !str_cats(out, " (postern-smtpd) via local with ") || !str_cats(out, proto))
			return 0;
	} else {
		if (!str_cats(out, " ("))
			return 0;
		if (client.host && (!str_cats(out, client.host) || !str_catc(out, ' ')))
			return 0;
		if (!str_catc(out, '[') || (strchr(client.ip, ':') && !str_cats(out, "IPv6:")) ||
		    !str_cats(out, client.ip) || !str_cats(out, "])\n\tby ") || !str_cat(out, &cfg.me) ||
		    !str_cats(out, " (postern-smtpd) with ") || !str_cats(out, proto))
			return 0;
	}
	if (!str_cats(out, " id ") || !str_cats(out, id))
		return 0;
	if (rcpt && (!str_cats(out, "\n\tfor <") || !str_catb(out, rcpt, rcptlen) || !str_catc(out, '>')))
		return 0;
	return str_cats(out, "; ") && date822_cat(out, time(0)) && str_catc(out, '\n');
}
