/* Messages to stderr, each prefixed with the program's name, written with one
 * write(2) so lines from concurrent processes never interleave.  The lists of
 * strings end at NULL, which the macros add. */
#ifndef POSTERN_DIE_H
#define POSTERN_DIE_H

extern const char *progname;

_Noreturn void die_(int code, int with_errno, ...);
void warn_(int with_errno, ...);

#define die(code, ...) die_((code), 0, __VA_ARGS__, (const char *)0)
#define die_sys(code, ...) die_((code), 1, __VA_ARGS__, (const char *)0)
#define warn(...) warn_(0, __VA_ARGS__, (const char *)0)
#define warn_sys(...) warn_(1, __VA_ARGS__, (const char *)0)
#define die_nomem() die(111, "fatal: out of memory")
#define die_usage(u) die(100, "usage: ", (u))
#endif
