/* postern-srs's answer to one request (srsask.h has the records), kept
 * apart from the socket so that the unit tests and the fuzzer can ask it
 * anything. */
#ifndef POSTERN_SRS_ANSWER_H
#define POSTERN_SRS_ANSWER_H
#include <stddef.h>
#include "srs.h"
#include "srsask.h"

/* What a request was, for the counts and the log. */
enum srsd_kind { SRSD_SIGN, SRSD_REVERSE };

/* The answer to request rec (n bytes) into ans (SRS_ANSWER_MAX bytes):
 * its length, with *kind and *result (an SRS_* code) set; or 0, with
 * *refusal saying why, for a request that is malformed or that the peer
 * may not make, which is closed unanswered.  may_sign: the peer may ask
 * F.  keys: 0 when there is no usable key, keywhy then saying why (cut to
 * fit the Z).  day: srs_day's, today.  Dies 111 out of memory. */
size_t srsd_answer(const char *rec, size_t n, int may_sign, const struct srs_keys *keys, const char *keywhy,
                   unsigned long day, char *ans, enum srsd_kind *kind, int *result, const char **refusal);
#endif
