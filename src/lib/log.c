#include <limits.h>
#include <string.h>
#include <unistd.h>
#include "log.h"
#include "ascii.h"
#include "die.h"
#include "fmt.h"

#define LOG_VALUE_MAX 1000 /* longer values are cut: a log line stays a line */

static int plain(unsigned char c)
{
	return ascii_vchar(c) && c != '"' && c != '=' && c != '\\';
}

int log_escape(struct str *out, const char *b, size_t n)
{
	size_t i;
	int quote = n == 0;
	int cut = 0;

	if (n > LOG_VALUE_MAX) {
		n = LOG_VALUE_MAX;
		cut = 1;
	}
	for (i = 0; i < n && !quote; i++)
		if (!plain((unsigned char)b[i]))
			quote = 1;
	if (!quote)
		return str_catb(out, b, n);
	if (!str_catc(out, '"'))
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)b[i];
		if (c == '"' || c == '\\') {
			if (!str_catc(out, '\\') || !str_catc(out, (char)c))
				return 0;
		} else if (c >= 0x20 && c < 0x7f) {
			if (!str_catc(out, (char)c))
				return 0;
		} else {
			char e[4] = { '\\', 'x' };
			(void)fmt_hexbyte(e + 2, c);
			if (!str_catb(out, e, 4))
				return 0;
		}
	}
	if (cut && !str_cats(out, "..."))
		return 0;
	return str_catc(out, '"');
}

void log_begin(struct logline *l, const char *event)
{
	l->s.len = 0;
	if (!str_cats(&l->s, progname) || !str_cats(&l->s, ": ") || !str_cats(&l->s, event))
		die_nomem();
}

void log_kvb(struct logline *l, const char *key, const char *value, size_t len)
{
	if (!str_catc(&l->s, ' ') || !str_cats(&l->s, key) || !str_catc(&l->s, '=') ||
	    !log_escape(&l->s, value, len))
		die_nomem();
}

void log_kv(struct logline *l, const char *key, const char *value)
{
	log_kvb(l, key, value, strlen(value));
}

void log_kvu(struct logline *l, const char *key, unsigned long long value)
{
	if (!str_catc(&l->s, ' ') || !str_cats(&l->s, key) || !str_catc(&l->s, '=') ||
	    !str_catu(&l->s, value))
		die_nomem();
}

static int holding;
static struct str held;

void log_hold(void) { holding = 1; }

void log_flush(void)
{
	if (held.len)
		(void)!write(2, held.s, held.len);
	held.len = 0;
}

void log_end(struct logline *l)
{
	if (!str_catc(&l->s, '\n'))
		die_nomem();
	if (holding && held.len + l->s.len > PIPE_BUF)
		log_flush();
	if (holding && l->s.len <= PIPE_BUF && str_cat(&held, &l->s)) {
		str_free(&l->s);
		return;
	}
	log_flush();
	(void)!write(2, l->s.s, l->s.len);
	str_free(&l->s);
}
