/* Run-time settings: HOME/control/NAME, one setting per file, each with a
 * documented default when the file is absent (doc/control.md).  A file that
 * exists but cannot be read is an error, never the default. */
#ifndef POSTERN_CONTROL_H
#define POSTERN_CONTROL_H
#include "str.h"

#define CONTROL_MAX (1024 * 1024)
/* First line, trimmed of surrounding blanks.  1 found, 0 absent, -1 error. */
int control_line(const char *name, struct str *value);
/* A number; *value is def when absent; -1 on error or a malformed number. */
int control_num(const char *name, unsigned long long *value, unsigned long long def);
/* From now on, control files are read from dir (a path, relative to the
 * working directory if not absolute) instead of HOME/control. */
void control_from(const char *dir);
/* Non-empty, non-comment lines, trimmed, each stored NUL-terminated in list.
 * 1 found, 0 absent or only comments and blanks (list empty), -1 error. */
int control_lines(const char *name, struct str *list);
/* Iterate a NUL-separated list: for (p = list.s; p && p < list.s + list.len; p += strlen(p) + 1) */
#endif
