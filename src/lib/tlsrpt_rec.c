/* One record line of queue/tlsrpt/DAY/r.DOMAIN: see tlsrpt.h and
 * doc/tlsrpt.md, "The records".  Written by postern-remote, which talks to
 * hostile servers: every field is checked against its own range. */
#include <arpa/inet.h>
#include <string.h>
#include "tlsrpt.h"
#include "ascii.h"
#include "fmt.h"

const char *const tlsrpt_types[3] = { "sts", "tlsa", "no-policy-found" };
const char *const tlsrpt_results[TLSRPT_RESULTS] = {
	"success", "starttls-not-supported", "certificate-host-mismatch", "certificate-expired",
	"certificate-not-trusted", "validation-failure", "tlsa-invalid", "dnssec-invalid", "dane-required",
	"sts-policy-fetch-error", "sts-policy-invalid", "sts-webpki-invalid",
};

int tlsrpt_host_ok(const char *s, size_t n, int lower)
{
	size_t i, label = 0;

	if (n == 0 || n > TLSRPT_HOST_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '.') {
			if (label == 0)
				return 0; /* a leading dot, or two in a row */
			label = 0;
			continue;
		}
		if (!(ascii_digit(c) || ascii_lower(c) || c == '-' || (!lower && ascii_upper(c))))
			return 0;
		if (++label > 63)
			return 0;
	}
	return label > 0; /* no trailing dot */
}

static int is(const char *s, size_t n, const char *word)
{
	return strlen(word) == n && memcmp(s, word, n) == 0;
}

/* an address field: "-" (empty) or one inet_pton takes */
static int ip_field(const char *s, size_t n, char out[TLSRPT_IP_MAX + 1])
{
	unsigned char bin[16];

	out[0] = 0;
	if (is(s, n, "-"))
		return 1;
	if (n == 0 || n > TLSRPT_IP_MAX)
		return 0;
	memcpy(out, s, n);
	out[n] = 0;
	if (inet_pton(memchr(out, ':', n) ? AF_INET6 : AF_INET, out, bin) != 1) {
		out[0] = 0;
		return 0;
	}
	return 1;
}

static int hexval(unsigned char c)
{
	if (ascii_digit(c))
		return c - '0';
	c = (unsigned char)ascii_tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* REASON: VCHARs, '%' only as %XX, at most TLSRPT_REASON_MAX as written */
static int reason_field(const char *s, size_t n, struct tlsrpt_rec *r)
{
	size_t i;

	r->reason_len = 0;
	r->reason[0] = 0;
	if (is(s, n, "-"))
		return 1;
	if (n == 0 || n > TLSRPT_REASON_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!ascii_vchar(c))
			return 0;
		if (c == '%') {
			int hi, lo;
			if (n - i < 3 || (hi = hexval((unsigned char)s[i + 1])) < 0 ||
			    (lo = hexval((unsigned char)s[i + 2])) < 0)
				return 0;
			c = (unsigned char)(hi << 4 | lo);
			if (c == 0)
				return 0; /* the reason is text: a NUL is no part of one */
			i += 2;
		}
		r->reason[r->reason_len++] = (char)c;
	}
	r->reason[r->reason_len] = 0;
	return 1;
}

int tlsrpt_rec_parse(const char *line, size_t n, struct tlsrpt_rec *r, const char **why)
{
	const char *f[8];
	size_t fl[8], k = 0, i, start = 0;

	memset(r, 0, sizeof *r);
	if (n >= TLSRPT_LINE_MAX) {
		*why = "line too long";
		return -1;
	}
	/* eight fields, one space between each two, none empty */
	for (i = 0; i <= n; i++) {
		if (i < n && line[i] != ' ')
			continue;
		if (k == 8 || i == start) {
			*why = k == 8 ? "too many fields" : "empty field";
			return -1;
		}
		f[k] = line + start;
		fl[k++] = i - start;
		start = i + 1;
	}
	if (k != 8) {
		*why = "too few fields";
		return -1;
	}
	if (!is(f[0], fl[0], "1")) {
		*why = "not version 1";
		return -1;
	}
	for (i = 0; i < 3 && !is(f[1], fl[1], tlsrpt_types[i]); i++)
		;
	if (i == 3) {
		*why = "bad type";
		return -1;
	}
	r->type = (enum tlsrpt_type)i;
	if (r->type == TLSRPT_NOPOLICY ? !is(f[2], fl[2], "-") : fl[2] != 16) {
		*why = "bad hash";
		return -1;
	}
	for (i = 0; r->type != TLSRPT_NOPOLICY && i < 16; i++) {
		if (scan_hexdigit(f[2][i]) < 0) {
			*why = "bad hash";
			return -1;
		}
		r->hash[i] = f[2][i];
	}
	for (i = 0; i < TLSRPT_RESULTS && !is(f[3], fl[3], tlsrpt_results[i]); i++)
		;
	if (i == TLSRPT_RESULTS || (i == 0 && r->type == TLSRPT_NOPOLICY)) {
		*why = "bad result";
		return -1;
	}
	r->result = (unsigned)i;
	if (!ip_field(f[4], fl[4], r->sending_ip) || !ip_field(f[6], fl[6], r->mx_ip)) {
		*why = "bad address";
		return -1;
	}
	if (!is(f[5], fl[5], "-")) {
		if (!tlsrpt_host_ok(f[5], fl[5], 1)) {
			*why = "bad mx host";
			return -1;
		}
		memcpy(r->mx_host, f[5], fl[5]);
		r->mx_host[fl[5]] = 0;
	}
	if (!reason_field(f[7], fl[7], r) || (r->result == 0 && r->reason_len)) {
		*why = "bad reason";
		return -1;
	}
	return 0;
}
