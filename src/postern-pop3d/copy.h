/* A message as POP3 sends it (RFC 1939 3): every line ends in CRLF (a
 * bare LF becomes CRLF, a CRLF stays as it is, a last line without its LF
 * gets one), and a line that starts with '.' gets another '.' in front.
 * The same walk counts a message's size at login and sends it at RETR and
 * TOP, so the size LIST and STAT promise is the size RETR sends. */
#ifndef POSTERN_POP3D_COPY_H
#define POSTERN_POP3D_COPY_H
#include "io.h"

#define COPY_ALL (~0ULL) /* body lines: the whole message */

/* Reads fd from where it is to its end.  out: where the lines go, or NULL
 * to count only.  body_lines: after the header and the blank line that
 * ends it, stop after this many lines (TOP); a message without a blank
 * line is all header.  *octets: the bytes of the message as sent, CRLFs
 * counted and the stuffed dots not (RFC 1939's size; the terminating
 * ".CRLF" is the caller's).  0 done, -1 a read error (errno), -2 a write
 * error (errno). */
int copy_message(int fd, struct io *out, unsigned long long body_lines, unsigned long long *octets);
#endif
