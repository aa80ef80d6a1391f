/* Starting a program with two descriptors as its fds 0 and 1, the way
 * postern-listen starts postern-smtpd and postern-smtpd starts
 * postern-queue: posix_spawn (with musl a vfork-style clone, so nothing of
 * the parent's memory is copied), no signal blocked, and the signals in
 * dflt back at their default action (an ignored signal would otherwise
 * stay ignored across the exec).  Other descriptors must be close-on-exec. */
#ifndef POSTERN_SPAWN01_H
#define POSTERN_SPAWN01_H
#include <signal.h>
#include <sys/types.h>

/* 0 with *pid set, or an errno value. */
int spawn_01(pid_t *pid, const char *path, char *const argv[], char *const envp[], int fd0, int fd1,
             const sigset_t *dflt);
#endif
