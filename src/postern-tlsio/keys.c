/* The engine's side of the key holder protocol (doc/tls.md): the chain comes
 * from postern-keys, and so does the one signature a handshake needs, so
 * that this process, which parses TLS from the network, never holds a
 * private key. */
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "tlsio.h"
#include "die.h"
#include "home.h"
#include "str.h"
#include "unixsock.h"

#define KEYS_WAIT_MS 10000

/* The chain: for each certificate a 3-byte length and its DER. */
static int parse_chain(struct keyholder *k, size_t len)
{
	size_t pos = 3;

	k->type = k->rec[1];
	k->curve = k->rec[2];
	if (k->type != 'E' && k->type != 'R')
		return -1;
	k->chain_len = 0;
	while (pos < len) {
		size_t n;
		if (len - pos < 3 || k->chain_len == CHAIN_MAX)
			return -1;
		n = (size_t)k->rec[pos] << 16 | (size_t)k->rec[pos + 1] << 8 | k->rec[pos + 2];
		pos += 3;
		if (n == 0 || n > len - pos)
			return -1;
		k->chain[k->chain_len].data = k->rec + pos;
		k->chain[k->chain_len].data_len = n;
		k->chain_len++;
		pos += n;
	}
	return k->chain_len ? 0 : -1;
}

int keys_open(struct keyholder *k)
{
	struct str path = STR_INIT;
	ssize_t n;

	if (!home_path(&path, "run/keys/socket"))
		die_nomem();
	k->fd = unix_connect(path.s, KEYS_WAIT_MS / 1000);
	if (k->fd == -1) {
		warn_sys("warning: unable to reach the key holder at ", path.s);
		str_free(&path);
		return -1;
	}
	str_free(&path);
	n = unix_recv_record(k->fd, k->rec, sizeof k->rec, KEYS_WAIT_MS);
	if (n == -1) {
		warn_sys("warning: no certificate chain from the key holder");
		keys_close(k);
		return -1;
	}
	if (n < 4 || k->rec[0] != 'C' || parse_chain(k, (size_t)n) == -1) {
		warn("warning: malformed certificate record from the key holder");
		keys_close(k);
		return -1;
	}
	return 0;
}

size_t keys_sign(struct keyholder *k, unsigned hash_id, const unsigned char *hv, size_t hv_len,
                 unsigned char *sig, size_t cap)
{
	unsigned char req[2 + 64], rep[1024];
	ssize_t n;

	if (k->fd == -1 || hv_len > 64)
		return 0;
	req[0] = 'S';
	req[1] = (unsigned char)hash_id;
	memcpy(req + 2, hv, hv_len);
	if (send(k->fd, req, 2 + hv_len, MSG_NOSIGNAL) != (ssize_t)(2 + hv_len)) {
		warn_sys("warning: unable to send to the key holder");
		return 0;
	}
	n = unix_recv_record(k->fd, rep, sizeof rep, KEYS_WAIT_MS);
	if (n == -1) {
		warn_sys("warning: no signature from the key holder");
		return 0;
	}
	if (n >= 1 && rep[0] == 'E') {
		warn("warning: the key holder refused to sign");
		return 0;
	}
	if (n < 2 || rep[0] != 'G' || (size_t)(n - 1) > cap) {
		warn("warning: malformed signature record from the key holder");
		return 0;
	}
	memcpy(sig, rep + 1, (size_t)n - 1);
	return (size_t)n - 1;
}

void keys_close(struct keyholder *k)
{
	if (k->fd != -1)
		(void)close(k->fd);
	k->fd = -1;
}
