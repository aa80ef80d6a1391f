/* What a spawner reads from a child's output pipe: everything waiting on a
 * non-blocking fd, keeping at most max bytes in all so a chatty or hostile
 * child cannot grow our memory.  At EOF or a read error the fd is closed
 * and *fd becomes -1.  Returns 0, or -1 when memory runs out. */
#ifndef POSTERN_DRAIN_H
#define POSTERN_DRAIN_H
#include <stddef.h>
#include "str.h"
int drain_bounded(int *fd, struct str *out, size_t max);
#endif
