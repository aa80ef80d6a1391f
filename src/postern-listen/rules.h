/* Who may connect, and what each client's program is told: the rules of
 * control/tcp.smtp (doc/postern-listen.8, "Rules").  One rule a line,
 *     ADDRESS:allow[,NAME="VALUE"|,NAME=VALUE]...
 *     ADDRESS:deny
 * where ADDRESS is an IPv4 or IPv6 address, an IPv4 prefix ending in a dot
 * ("10.1."), an IPv4 range in the last number ("10.1.2.3-40"), a CIDR block
 * ("10.0.0.0/8", "2001:db8::/32"), or nothing (every address).  The most
 * specific rule that matches wins (an address or a range weighs 32 or 128,
 * a prefix its length, nothing and /0 weigh 0); of equal ones, the first.
 * This is tcprules(1)'s language without its host names, plus CIDR.
 * Parsed once, matched per connection; tests/unit/listen_rules.c. */
#ifndef POSTERN_LISTEN_RULES_H
#define POSTERN_LISTEN_RULES_H
#include <stddef.h>
#include "str.h"

#define RULES_MAX 10000        /* rules in one file */
#define RULE_ENV_MAX 16        /* variables one rule may set */

struct rule {
	int family;             /* AF_INET or AF_INET6; 0 for every address */
	unsigned char addr[16]; /* network order; the first 4 bytes for IPv4 */
	unsigned bits;          /* prefix length that must match */
	int range;              /* IPv4 range: the last byte from addr[3] to last_hi */
	unsigned char last_hi;
	int allow;
	size_t line;            /* in the file, for the log */
	size_t env_off, env_n;  /* NAME=VALUE strings, NUL-terminated, in rules.env */
};

struct rules {
	struct rule *r;
	size_t n;
	struct str env;
};
#define RULES_INIT { 0, 0, STR_INIT }

/* The variables the listener sets itself (TCP..., PROTO): a rule may not
 * set them, and they are not passed on from the listener's environment. */
int rules_reserved(const char *name, size_t n);

/* Parses a whole file's text into *out (emptied first).  1 on success;
 * 0 on a bad line, with "line N: why" in *why; -1 out of memory. */
int rules_parse(struct rules *out, const char *text, size_t len, struct str *why);
/* The rule for an address (family AF_INET: 4 bytes, AF_INET6: 16), or 0
 * when none matches, which allows the connection with nothing set. */
const struct rule *rules_match(const struct rules *, int family, const unsigned char *addr);
/* The k-th NAME=VALUE of a rule. */
const char *rules_env(const struct rules *, const struct rule *, size_t k);
/* 1 if rule r (0: none) sets the variable name[0..n). */
int rules_sets(const struct rules *, const struct rule *r, const char *name, size_t n);
void rules_free(struct rules *);
#endif
