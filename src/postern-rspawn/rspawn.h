/* postern-rspawn's pure rules: what a request may hold and how a
 * postern-remote's output and exit become a result frame.
 * tests/unit/rspawn.c checks them. */
#ifndef POSTERN_RSPAWN_H
#define POSTERN_RSPAWN_H
#include <stddef.h>
#include "str.h"
#include "batch.h"

#define REQ_MAX 131072   /* bytes in one request frame */
#define JOB_MAX 20       /* digits in a job id */
#define RCPTS_MAX 100    /* recipients in one job */
#define OUT_MAX 140000   /* bytes of a postern-remote's output kept: (100 + 32) records of 1002 */
#define RTEXT_MAX 500    /* bytes of one result text passed on */
#define KIDS_MAX 1000    /* deliveries at once */

#define MSGS_MAX REMOTE_BATCH_MAX /* messages in one job */
#define REQ_FIELDS (1 + 5 * MSGS_MAX + 2 * RCPTS_MAX)

struct rmsg {
	const char *job, *qid, *sender;
	const char *params;        /* MAIL's DSN parameters, "" for none */
	const char *const *rcpt;   /* n pairs: rcpt[2i] the address, rcpt[2i + 1] its RCPT parameters */
	size_t n;
};
struct request {
	const char *domain;
	struct rmsg m[MSGS_MAX];
	size_t nm;
};
/* Splits and checks a request payload: DOMAIN, then for each of 1 to
 * MSGS_MAX messages JOB QID SENDER MAILPARAMS N and N pairs RCPT
 * RCPTPARAMS (each RCPT of DOMAIN; 1 to RCPTS_MAX in the whole job; the
 * parameters as dsn_params_ok takes them), every field ending in NUL;
 * the job ids all different.
 * NULL if well formed, else what is wrong.  rq points into the payload
 * and into storage of rspawn_parse's own, valid until the next call. */
const char *rspawn_parse(const struct str *payload, struct request *rq);

/* Where each message's records are in a postern-remote's output: message
 * k has n[k] + 1 records (STATUS TEXT \0 each), message after message, each
 * written as soon as it and those before it were settled.  Returns how
 * many messages, from the first, the output holds whole (start and len
 * set for them); *exact when that is all of them and nothing follows. */
size_t rspawn_split(const char *out, size_t olen, const size_t *n, size_t nm, size_t *start, size_t *len,
                    int *exact);

/* The result frame's payload (doc/pipes.md) for job with n recipients,
 * from its records in what postern-remote wrote (out, olen) and the
 * process's wait status.  A recipient's STATUS is K, R, D or Z, the
 * message's K, D or Z; anything else makes the whole output malformed. */
int rspawn_result(struct str *payload, const char *job, size_t n, const char *out, size_t olen,
                  int status);
#endif
