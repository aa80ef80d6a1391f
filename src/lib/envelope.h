/* The qmail-queue envelope: `F`sender`\0`, then `T`recipient`\0` for each
 * recipient, then a final `\0`.  It is both what postern-queue reads on fd 1
 * and what a committed envelope file in the queue holds (doc/queue.md). */
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
};

/* Checks one sender (may be empty) or recipient field, without its letter. */
int envelope_sender_ok(const char *a, size_t n);
/* Parses a whole envelope held in buf (which must outlive env).  Every record
 * must be well formed; anything after the final NUL is an error. */
int envelope_parse(struct envelope *env, const char *buf, size_t n);
void envelope_free(struct envelope *env);
#endif
