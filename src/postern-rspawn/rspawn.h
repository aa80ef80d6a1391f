/* postern-rspawn's pure rules: what a request may hold and how a
 * postern-remote's output and exit become a result frame.
 * tests/unit/rspawn.c checks them. */
#ifndef POSTERN_RSPAWN_H
#define POSTERN_RSPAWN_H
#include <stddef.h>
#include "str.h"

#define REQ_MAX 131072   /* bytes in one request frame */
#define JOB_MAX 20       /* digits in a job id */
#define RCPTS_MAX 100    /* recipients in one job */
#define OUT_MAX 131072   /* bytes of a postern-remote's output kept */
#define RTEXT_MAX 500    /* bytes of one result text passed on */
#define KIDS_MAX 1000    /* deliveries at once */

struct request {
	const char *job, *qid, *sender, *domain;
	const char *rcpt[RCPTS_MAX];
	size_t n;
};
/* Splits and checks a request payload: JOB QID SENDER DOMAIN RCPT...,
 * each ending in NUL, 1 to RCPTS_MAX recipients, each of DOMAIN.
 * NULL if well formed, else what is wrong. */
const char *rspawn_parse(const struct str *payload, struct request *rq);

/* The result frame's payload (doc/pipes.md) for job with n recipients,
 * from what postern-remote wrote (out, olen) and its wait status. */
int rspawn_result(struct str *payload, const char *job, size_t n, const char *out, size_t olen,
                  int status);
#endif
