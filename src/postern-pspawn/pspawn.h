/* postern-pspawn's pieces; main.c has the service, doc/pop3.md the
 * request ("postern-auth to postern-pspawn") and what postern-pop3d is
 * given ("postern-pspawn to postern-pop3d"). */
#ifndef POSTERN_PSPAWN_H
#define POSTERN_PSPAWN_H
#include <stddef.h>
#include <sys/types.h>
#include <time.h>
#include "loginname.h"
#include "remoteip.h"
#include "seconds.h"

#define RECORD_MAX 320  /* bytes in a request */
#define USER_LEN_MAX LOGINNAME_MAX /* bytes of USER */
#define IP_LEN_MAX REMOTEIP_MAX    /* bytes of REMOTEIP */
#define REQUEST_FDS 2   /* the client's read side, then its write side */

/* One request: U USER \0 REMOTEIP \0 with two descriptors. */
struct request {
	char user[USER_LEN_MAX + 1];
	char ip[IP_LEN_MAX + 1];
	int fds[REQUEST_FDS]; /* close-on-exec */
};

/* record.c, the pure part: the bytes of one record checked and copied
 * into *req (not its fds).  0, or why it is refused. */
const char *record_parse(const char *rec, size_t n, struct request *req);

/* request.c: reads the one record of a connection.  1: a well-formed
 * request in *req; 0: nothing yet; -1: refused, with *why set and every
 * descriptor that came with it closed. */
int request_read(int conn, struct request *req, const char **why);

/* account.c: the user a request names, as postern-pop3d becomes it. */
struct account {
	const char *name;    /* USER: the passwd entry's, or LOCAL@DOMAIN */
	const char *home;    /* HOME: the passwd entry's, or the virtual mailbox */
	uid_t uid;
	gid_t gid;
	const gid_t *groups; /* as initgroups would set them: gid included */
	size_t ngroups;
};
/* Looks the login name up afresh and applies the rules (doc/pop3.md,
 * "Names"): a Unix user's name is that user (getpwnam, getgrouplist), at
 * least minuid, with an absolute home; LOCAL@DOMAIN is postern-vmail on
 * HOME/vmail/DOMAIN/LOCAL, for a domain of control/virtualdomains and a
 * mailbox that exists.  Never root, nor group 0.  0 with *a filled (valid
 * until the next call), or the answer's reason. */
const char *account_get(const char *login, unsigned long long minuid, struct account *a);

/* pop3d.c: starts path as root on the request's descriptors, with the
 * account's identity in the environment.  0 and *pid, or an errno value.
 * The descriptors stay open: the caller closes them. */
int pop3d_start(const char *path, const struct account *a, const struct request *req, pid_t *pid);

/* roster.c: 0 when user is in HOME/users/pop3, the POP3 roster (read
 * again when it changed), or why not: the answer's reason. */
const char *roster_check(const char *user);

/* kids.c: the running postern-pop3ds. */
#define KIDS_MAX 10000 /* control/concurrencypop3's most */
size_t kids_running(void);
/* Those running for the login name user (the request's USER). */
size_t kids_of(const char *user);
/* Counts one in (kids_running() < KIDS_MAX) and logs its start. */
void kids_add(pid_t pid, const struct account *a, const struct request *req);
/* Waits for those that ended, logging each. */
void kids_reap(void);
/* SIGKILLs each one that has run lifetime seconds or more (once; the end
 * line follows when it is reaped): the seconds until the next one is due,
 * or -1 when none is running unkilled. */
long long kids_expire(unsigned long long lifetime);
#endif
