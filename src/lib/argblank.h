/* A command line is public: any local user can read /proc/PID/cmdline (and
 * ps shows it).  A program given other people's envelopes as arguments
 * (postern-local, postern-remote) takes them out of it first. */
#ifndef POSTERN_ARGBLANK_H
#define POSTERN_ARGBLANK_H
#include <stddef.h>
/* Copies arg[0 .. n-1] into one allocation and overwrites the originals
 * with NULs.  Returns the copies (an array of n pointers, then a null
 * one), or 0 when out of memory, with the originals left alone. */
char **args_blank(char **arg, size_t n);
#endif
