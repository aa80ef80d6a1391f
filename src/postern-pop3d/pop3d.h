/* postern-pop3d's session, shared by main.c (the set-up, the loop, the
 * ends) and commands.c (the TRANSACTION state's commands).  See main.c
 * and doc/postern-pop3d.8. */
#ifndef POSTERN_POP3D_H
#define POSTERN_POP3D_H
#include "command.h"
#include "io.h"
#include "maildrop.h"

extern struct maildrop md;
extern struct io out;            /* to the client, buffered */

/* What the logout line says. */
struct tally {
	unsigned long long retrieved; /* messages sent whole by RETR, each once */
	unsigned long long deleted;   /* files unlinked at UPDATE */
	unsigned long long octets;    /* message octets sent by RETR and TOP */
};
extern struct tally tally;

/* Replies: a failed write ends the session (main.c). */
void put(const char *s);
void putb(const char *s, size_t n);
void putu(unsigned long long u);
void reply(const char *s);       /* s and CRLF */
_Noreturn void client_failed(void);
/* Ends the session: the logout line, then the exit. */
_Noreturn void end_session(const char *how, int code);

/* commands.c: every command but QUIT, its answer in out. */
void command_run(const struct command *);
/* The messages not deleted: how many, and their octets. */
void live(unsigned long long *count, unsigned long long *octets);
/* "N messages (M octets)" of the messages not deleted. */
void put_summary(void);
#endif
