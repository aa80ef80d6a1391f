/* One POP3 command line of the TRANSACTION state, without its CRLF or LF:
 * a keyword (any case) and its arguments, each after exactly one space
 * (RFC 1939 3).  Every argument here is a number: decimal digits only, no
 * sign and no blank, and a value past 2^64-1 stays at 2^64-1, which no
 * message number and no line count reaches, so no number can overflow. */
#ifndef POSTERN_POP3D_COMMAND_H
#define POSTERN_POP3D_COMMAND_H
#include <stddef.h>

enum verb { V_STAT, V_LIST, V_RETR, V_DELE, V_NOOP, V_RSET, V_QUIT, V_TOP, V_UIDL, V_CAPA };

struct command {
	enum verb verb;
	size_t nargs;
	unsigned long long arg[2];
};

#define CMD_OK 0
#define CMD_UNKNOWN 1 /* no such keyword here (USER, PASS, APOP, AUTH, STLS included) */
#define CMD_SYNTAX 2  /* a wrong count of arguments, a blank too many, not a number */
int command_parse(const char *line, size_t n, struct command *c);
#endif
