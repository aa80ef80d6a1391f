/* postern-tlsd's pieces; main.c has the service, doc/tls.md the request. */
#ifndef POSTERN_TLSD_H
#define POSTERN_TLSD_H
#include <sys/types.h>
#include "servername.h"
#include "tlsa.h"

#define REQUEST_FDS 5

/* The longest record: C, the policy byte, the name, and for policy d as
 * many records as are taken, each of the longest text and after its NUL. */
#define RECORD_MAX (2 + SERVER_NAME_MAX + TLSA_RECORDS_MAX * (1 + TLSA_TEXT_MAX))

/* One request as doc/tls.md has it.  Its room is fixed: a request is
 * refused rather than ever made to fit. */
struct request {
	char mode;   /* 'S' be the server, 'C' be the client */
	char policy; /* 'C': 'e' any certificate, 'v' verified, 't' any but judged as v, 'd' DANE */
	char name[SERVER_NAME_MAX + 1]; /* 'C': the server's name, NUL-terminated */
	/* policy 'd': the TLSA records in their text form (src/lib/tlsa.h),
	 * each NUL-terminated, 1 to TLSA_RECORDS_MAX of them */
	char tlsa[TLSA_RECORDS_MAX][TLSA_TEXT_MAX + 1];
	size_t ntlsa;
	int fds[REQUEST_FDS]; /* close-on-exec */
};

/* request.c: the record of a request, rec (n bytes, any n, no descriptors
 * looked at), into *req (cleared first; mode, and for C the rest, set when
 * it is well formed): 0, or why it is refused. */
const char *request_parse(const char *rec, size_t n, struct request *req);

/* request.c: reads the one record of a request.  1: a well-formed request
 * in *req; 0: no record yet; -1: refused, with why set to the reason and
 * every descriptor that came with it closed. */
int request_read(int conn, struct request *req, const char **why);

/* engine.c: starts HOME/bin/postern-tlsio on the request's descriptors,
 * in client mode for a C request (with its TLSA records for policy d).
 * The pid, or -1 (logged).  The descriptors are closed either way. */
pid_t engine_start(const char *path, struct request *req);
#endif
