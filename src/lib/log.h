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
/* Appends the escaped form of b to out: used by log_kv, exposed for tests. */
int log_escape(struct str *out, const char *b, size_t n);
#endif
