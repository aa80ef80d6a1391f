/* A growable byte string.  Every program keeps its text in these, never in
 * fixed arrays, so no length is ever guessed.  s[len] is always a NUL byte
 * once anything was stored, so s can be handed to system calls; the string
 * itself may still hold NULs (envelopes do). Functions return 1 on success
 * and 0 when memory runs out or a length would overflow (errno ENOMEM). */
#ifndef POSTERN_STR_H
#define POSTERN_STR_H
#include <stddef.h>

struct str {
	char *s;
	size_t len;
	size_t cap;
};
#define STR_INIT { 0, 0, 0 }

int str_ready(struct str *, size_t total);
int str_readyplus(struct str *, size_t more);
int str_catb(struct str *, const char *, size_t);
int str_cats(struct str *, const char *);
int str_catc(struct str *, char);
/* b (n bytes) in lower-case hex, two digits a byte */
int str_cathex(struct str *, const unsigned char *b, size_t n);
int str_catu(struct str *, unsigned long long);
int str_cat(struct str *, const struct str *);
int str_copyb(struct str *, const char *, size_t);
int str_copys(struct str *, const char *);
/* str_catz appends a NUL that counts in len: how NUL-delimited records are built. */
int str_catz(struct str *);
void str_truncate(struct str *, size_t len);
/* str_shrink gives back the room beyond len and its NUL: for a string
 * kept long, as postern-send keeps an envelope for every queued message. */
void str_shrink(struct str *);
void str_free(struct str *);
/* str_wipe zeroes the bytes before freeing: for anything secret. */
void str_wipe(struct str *);
int str_equals(const struct str *, const char *);
int str_starts(const struct str *, const char *);
#endif
