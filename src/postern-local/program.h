/* Program delivery: a .postern line `|command` run as `/bin/sh -c command`
 * in its own process group, with the given environment (envelope data goes
 * there, never into argv), the trace lines and the message on stdin, and
 * stdout+stderr captured (at most PROGRAM_TEXT_MAX bytes kept). */
#ifndef POSTERN_LOCAL_PROGRAM_H
#define POSTERN_LOCAL_PROGRAM_H
#include <stddef.h>
#include "str.h"

#define PROGRAM_TEXT_MAX 1000

/* Returns 0 delivered, 99 delivered and stop reading the dot file, 100
 * permanent failure, 111 temporary failure; why holds one line of text
 * (the program's output, or why it failed).  The process group is killed
 * after timeout seconds.  qmail-local's table: exit 0 ok, 99 ok-and-stop,
 * 100, 64, 65, 70, 76, 77, 78 and 112 permanent, anything else temporary. */
int program_deliver(const char *cmd, size_t cmdlen, char *const envp[],
                    const char *pre, size_t prelen, int msgfd,
                    unsigned long long timeout, struct str *why);
/* The exit-status table alone, for tests. */
int program_status(int exitcode);
/* Makes program output one printable line: LF -> '/', other control bytes -> '?'. */
void text_flatten(struct str *t);
#endif
