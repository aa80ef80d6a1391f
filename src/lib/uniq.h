/* Unique names for queue and Maildir files, Maildir style: time, pid and 64
 * random bits from the kernel (rand.h).  Never the inode number, so a queue
 * copied to another file system keeps every name valid.  Each returns 0 when
 * out of memory or out of randomness. */
#ifndef POSTERN_UNIQ_H
#define POSTERN_UNIQ_H
#include <stddef.h>
#include "str.h"

#define QID_MAX 64
/* Queue id: <seconds>.<microseconds>P<pid>R<16 hex>, e.g. 1764423956.000123P42R9f3a1c2e7b6d5a40 */
int uniq_qid(struct str *out);
/* 1 if s is a well-formed queue id: digits . digits P digits R hex (0-9a-f),
 * at most QID_MAX bytes. */
int qid_valid(const char *s, size_t len);
/* The arrival time encoded in a queue id, 0 if none. */
unsigned long long qid_time(const char *s, size_t len);
/* Maildir file name: <sec>.M<usec>P<pid>R<16 hex>.<host>, host with '/', ':'
 * and ',' escaped (\057, \072, \054). */
int uniq_maildir(struct str *out, const char *host);
/* Appends 64 random bits as 16 lower-case hex digits (the R part above). */
int uniq_cat_random(struct str *out);
/* Appends a Message-ID of ours, <RANDOM@DOMAIN>: 128 random bits as 32
 * hex digits, unique without asking anyone and telling nothing of when
 * or by which process.  1, or 0 (memory, or randomness: errno). */
int uniq_cat_msgid(struct str *out, const char *domain, size_t n);
#endif
