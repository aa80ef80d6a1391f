/* The qmail-queue envelope: `F`sender`\0`, then `T`recipient`\0` for each
 * recipient, then a final `\0`.  It is both what postern-queue reads on fd 1
 * and what a committed envelope file in the queue holds (doc/queue.md).
 * postern's own injectors may add the DSN parameters (RFC 3461) as records
 * of their own: `R` and `E` after the sender, `N` and `O` before the
 * recipient they belong to (doc/dsn.md); postern-local marks a forwarded
 * copy with an empty `S` after those (doc/srs.md). */
#ifndef POSTERN_ENVELOPE_H
#define POSTERN_ENVELOPE_H
#include <stddef.h>
#include "str.h"

#define ENV_OK 0
#define ENV_FORMAT 91   /* qmail-queue: envelope format error */
#define ENV_TOOLONG 11  /* qmail-queue: address too long */

struct envelope {
	const char *sender;
	size_t sender_len;
	size_t nrcpt;
	const char **rcpt;  /* each NUL-terminated, pointing into the parsed buffer */
	size_t *rcpt_len;
	/* DSN (doc/dsn.md); the arrays are allocated only if some recipient
	 * has an N or O record: read them through envelope_notify and
	 * envelope_orcpt */
	int ret;            /* DSN_RET_FULL, DSN_RET_HDRS or 0: not given */
	const char *envid;  /* xtext, envid_len 0 if not given */
	size_t envid_len;
	unsigned char *notify;  /* DSN_NOTIFY_* bits, 0 if not given */
	const char **orcpt;     /* "type;xtext" */
	size_t *orcpt_len;      /* 0 if not given */
	/* an S record: a forwarded copy, whose sender postern-send rewrites
	 * with SRS when it leaves (doc/srs.md) */
	int forwarded;
};

/* Checks one sender (may be empty) or recipient field, without its letter. */
int envelope_sender_ok(const char *a, size_t n);
/* Parses a whole envelope held in buf (which must outlive env).  Every record
 * must be well formed; anything after the final NUL is an error. */
int envelope_parse(struct envelope *env, const char *buf, size_t n);
void envelope_free(struct envelope *env);
/* What recipient i asked to be told of: its NOTIFY bits, or
 * DSN_NOTIFY_DEFAULT if it did not say. */
unsigned envelope_notify(const struct envelope *env, size_t i);
/* Recipient i's ORCPT, "type;xtext"; length 0 if none. */
size_t envelope_orcpt(const struct envelope *env, size_t i, const char **orcpt);
#endif
