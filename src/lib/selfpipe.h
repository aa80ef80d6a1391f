/* The self-pipe: a caught signal writes one byte to a pipe that the main
 * loop polls, so a signal wakes poll() without the race of checking a flag
 * just before sleeping.  Every long-running postern program loops this way. */
#ifndef POSTERN_SELFPIPE_H
#define POSTERN_SELFPIPE_H
#include <signal.h>

extern volatile sig_atomic_t selfpipe_term; /* SIGTERM or SIGINT arrived */
extern volatile sig_atomic_t selfpipe_hup;  /* SIGHUP arrived */
extern volatile sig_atomic_t selfpipe_alrm; /* SIGALRM arrived (asked for only) */

/* Catches SIGTERM, SIGINT, and those of SIGCHLD, SIGHUP and SIGALRM that
 * are asked for, and ignores SIGPIPE.  Returns the fd to poll, or -1 (errno set). */
#define SELFPIPE_CHLD 1
#define SELFPIPE_HUP 2
#define SELFPIPE_ALRM 4
int selfpipe_init(int which);
/* Empties the pipe after poll() said it is readable. */
void selfpipe_drain(void);
#endif
