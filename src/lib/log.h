/* One log line per event: `progname: event key=value key=value`, written to
 * stderr in one write.  Values that hold spaces, quotes, '=' or bytes outside
 * printable ASCII are quoted and escaped, so a hostile address cannot forge
 * a field or a line. */
#ifndef POSTERN_LOG_H
#define POSTERN_LOG_H
#include <stddef.h>
#include "str.h"

struct logline {
	struct str s;
};

void log_begin(struct logline *, const char *event);
void log_kv(struct logline *, const char *key, const char *value);
void log_kvb(struct logline *, const char *key, const char *value, size_t len);
void log_kvu(struct logline *, const char *key, unsigned long long value);
void log_end(struct logline *);
/* Held lines: a program that logs several lines for one event holds them
 * and writes them with one write(2) (one wake-up of the logger instead of
 * one a line; doc/performance.md, step 15).  It flushes before it hands
 * work to another process and before it waits, so lines from different
 * programs keep their causal order; die() and warn() flush first too.
 * Lines are flushed in pieces of at most PIPE_BUF bytes, so that each
 * write to the logger's pipe stays atomic among its writers. */
void log_hold(void);
void log_flush(void);
/* Appends the escaped form of b to out: used by log_kv, exposed for tests. */
int log_escape(struct str *out, const char *b, size_t n);
#endif
