/* Every copy of a message that postern-local makes (Maildir file, forward,
 * program) is the trace lines followed by the queue's message file, read
 * read from offset 0 (pread, or copy_file_range into a file) so one fd
 * serves every delivery in turn. */
#ifndef POSTERN_LOCAL_COPY_H
#define POSTERN_LOCAL_COPY_H
#include <stddef.h>
/* 0 done; -1 a write to fd failed; -2 reading msgfd failed (errno set). */
int copy_message(int fd, const char *pre, size_t prelen, int msgfd);
#endif
