/* A request from postern-smtpd or postern-remote (doc/tls.md): S, or C, a
 * policy byte and the server's name, with exactly five descriptors; for
 * policy d the name is followed by the TLSA records, each after a NUL.
 * The peer may be a compromised postern-smtpd or postern-remote, so every
 * descriptor that arrives is closed unless the record is exactly right, a
 * record cut short, or with more descriptors than FDPASS_MAX, is refused
 * whole (fdpass_recv), and the name and the records, which become
 * arguments of postern-tlsio, may hold only the bytes of a host name and
 * of a usable record's text form (src/lib/tlsa.h). */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include "tlsd.h"
#include "fdpass.h"
#include "servername.h"
#include "tlsa.h"

/* Policy d's records: the n bytes after the name, p[0] the NUL that ends
 * it.  0, or why they are refused.  A NUL at the end, or two in a row,
 * is an empty record, which is no usable one. */
static const char *tlsa_records(const char *p, size_t n, struct request *req)
{
	if (n == 0)
		return "malformed request: no TLSA record";
	while (n) {
		const char *z;
		size_t len;

		p++; /* the NUL before this record */
		n--;
		z = memchr(p, 0, n);
		len = z ? (size_t)(z - p) : n;
		if (req->ntlsa == TLSA_RECORDS_MAX)
			return "malformed request: too many TLSA records";
		if (len > TLSA_TEXT_MAX || !tlsa_text_ok(p, len))
			return "malformed request: bad TLSA record";
		memcpy(req->tlsa[req->ntlsa], p, len);
		req->tlsa[req->ntlsa][len] = 0;
		req->ntlsa++;
		p += len;
		n -= len;
	}
	return 0;
}

/* The rest of a C record: 0, or why it is refused.  With e, v and t the
 * name is all the rest (a NUL in it is a bad name, as ever); with d it
 * ends at the first NUL. */
static const char *client_request(const char *rec, size_t n, struct request *req)
{
	const char *name = rec + 2, *z;
	size_t len;

	if (n < 2)
		return "malformed request: no policy";
	if (rec[1] != 'e' && rec[1] != 'v' && rec[1] != 't' && rec[1] != 'd')
		return "malformed request: unknown policy";
	len = n - 2;
	if (rec[1] == 'd' && (z = memchr(name, 0, len)) != 0)
		len = (size_t)(z - name);
	if (len == 0)
		return "malformed request: no server name";
	if (len > SERVER_NAME_MAX)
		return "malformed request: server name too long";
	if (!server_name_ok(name, len))
		return "malformed request: bad server name";
	req->policy = rec[1];
	memcpy(req->name, name, len);
	req->name[len] = 0;
	if (rec[1] == 'd')
		return tlsa_records(name + len, n - 2 - len, req);
	return 0;
}

const char *request_parse(const char *rec, size_t n, struct request *req)
{
	const char *why = 0;

	memset(req, 0, sizeof *req);
	if (n == 0)
		why = "empty request";
	else if (rec[0] == 'S' && n != 1)
		why = "malformed request";
	else if (rec[0] == 'C')
		why = client_request(rec, n, req);
	else if (rec[0] != 'S')
		why = "unknown request";
	if (!why)
		req->mode = rec[0];
	return why;
}

int request_read(int conn, struct request *req, const char **why)
{
	char rec[RECORD_MAX + 1]; /* + 1: a record one byte too long is seen whole */
	int got[FDPASS_MAX];
	size_t n, ngot;
	int r = fdpass_recv(conn, rec, sizeof rec, &n, got, FDPASS_MAX, &ngot, MSG_DONTWAIT);

	if (r == -1 && (errno == EAGAIN || errno == EINTR))
		return 0;
	*why = 0;
	memset(req, 0, sizeof *req);
	if (r == -1)
		*why = errno == EMSGSIZE ? "malformed request" : "receive failed";
	else
		*why = request_parse(rec, n, req);
	if (!*why && ngot != REQUEST_FDS)
		*why = "wrong number of descriptors";
	if (*why) {
		fdpass_close(got, ngot);
		return -1;
	}
	memcpy(req->fds, got, sizeof(int) * REQUEST_FDS);
	return 1;
}
