/* The Received header postern-smtpd puts in front of each message (RFC 5321
 * 4.4), as the first bytes it pipes to postern-queue; postern-queue adds its
 * own line above it when it commits.  Every field comes from validated input,
 * and the HELO name is further reduced to bytes that cannot end a clause or
 * open a comment, so a client cannot forge another "by" or the date; the
 * TLS engine's protocol and cipher names are reduced the same way. */
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "smtpd.h"
#include "ascii.h"
#include "date822.h"

static int helo_byte(unsigned char c)
{
	return ascii_alnum(c) || c == '.' || c == '-' || c == '_' || c == ':' || c == '[' || c == ']' || c >= 0x80;
}

/* The engine's names (TLSv1.2, ECDHE-RSA-AES128-GCM-SHA256) are made of
 * these; anything else becomes '?', so that not even a confused engine
 * can close the comment. */
static int tls_byte(unsigned char c)
{
	return ascii_alnum(c) || c == '.' || c == '-' || c == '_';
}

/* b, with each byte ok() refuses as '?' */
static int cat_filtered(struct str *out, const char *b, size_t n, int (*ok)(unsigned char))
{
	size_t i;
	for (i = 0; i < n; i++)
		if (!str_catc(out, ok((unsigned char)b[i]) ? b[i] : '?'))
			return 0;
	return 1;
}

/* "(using TLSv1.2 with cipher ...)", as Postfix and qmail's TLS patch
 * write it: a comment between the from and the by clause. */
static int tls_comment(struct str *out, const struct tls_report *tls)
{
	if (!tls || !tls->protocol.len || !tls->cipher.len)
		return 1;
	return str_cats(out, "\n\t(using ") &&
	       cat_filtered(out, tls->protocol.s, tls->protocol.len, tls_byte) &&
	       str_cats(out, " with cipher ") && cat_filtered(out, tls->cipher.s, tls->cipher.len, tls_byte) &&
	       str_catc(out, ')');
}

int received_build(struct str *out, const char *helo, const char *proto, const struct tls_report *tls,
                   const char *id, const char *rcpt, size_t rcptlen)
{
	out->len = 0;
	if (!str_cats(out, "Received: from ") || !cat_filtered(out, helo, strlen(helo), helo_byte))
		return 0;
	if (client.local) {
		if (!str_cats(out, " (invoked by uid ") || !str_catu(out, (unsigned long long)getuid()) ||
		    !str_catc(out, ')'))
			return 0;
	} else {
		if (!str_cats(out, " ("))
			return 0;
		if (client.host && (!str_cats(out, client.host) || !str_catc(out, ' ')))
			return 0;
		if (!str_catc(out, '[') || (strchr(client.ip, ':') && !str_cats(out, "IPv6:")) ||
		    !str_cats(out, client.ip) || !str_catc(out, ']') || !str_catc(out, ')'))
			return 0;
	}
	if (!tls_comment(out, tls) || !str_cats(out, "\n\tby ") || !str_cat(out, &cfg.me) ||
	    !str_cats(out, client.local ? " (postern-smtpd) via local with " : " (postern-smtpd) with ") ||
	    !str_cats(out, proto))
		return 0;
	if (!str_cats(out, " id ") || !str_cats(out, id))
		return 0;
	if (rcpt && (!str_cats(out, "\n\tfor <") || !str_catb(out, rcpt, rcptlen) || !str_catc(out, '>')))
		return 0;
	return str_cats(out, "; ") && date822_cat(out, time(0)) && str_catc(out, '\n');
}
