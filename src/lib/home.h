/* Where postern is installed.  A program finds its home from its own
 * executable (HOME/bin/NAME), so one build can be installed anywhere, tests
 * included.  POSTERN_HOME overrides this, but only in a process that is not
 * setuid or setgid (secure_getenv), so a caller can never redirect
 * postern-queue to a queue of its own. */
#ifndef POSTERN_HOME_H
#define POSTERN_HOME_H
const char *home_dir(void); /* dies 111 if it cannot be found */
/* home_dir()/name, in a static-lifetime buffer owned by the caller's str. */
#include "str.h"
int home_path(struct str *out, const char *name);
#endif
