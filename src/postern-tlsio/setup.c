/* What the server and the client engine share: TLS 1.2 only, the hashes
 * and PRFs it needs, the ECDHE curves, AES-GCM and ChaCha20-Poly1305, the
 * one record buffer, and 32 bytes from the kernel for the random generator
 * (doc/tls.md, "What TLS postern speaks").  The caller zeroes its context
 * before, and sets what is its own after. */
#include <string.h>
#include "tlsio.h"
#include "die.h"
#include "rand.h"

static unsigned char iobuf[BR_SSL_BUFSIZE_BIDI];

void engine_setup(br_ssl_engine_context *eng, const uint16_t *suites, size_t n)
{
	static const struct {
		int id;
		const br_hash_class *impl;
	} hashes[] = {
		{ br_sha1_ID, &br_sha1_vtable }, { br_sha224_ID, &br_sha224_vtable },
		{ br_sha256_ID, &br_sha256_vtable }, { br_sha384_ID, &br_sha384_vtable },
		{ br_sha512_ID, &br_sha512_vtable },
	};
	unsigned char seed[32];
	size_t i;

	br_ssl_engine_set_versions(eng, BR_TLS12, BR_TLS12);
	br_ssl_engine_set_suites(eng, suites, n);
	for (i = 0; i < sizeof hashes / sizeof hashes[0]; i++)
		br_ssl_engine_set_hash(eng, hashes[i].id, hashes[i].impl);
	br_ssl_engine_set_prf_sha256(eng, &br_tls12_sha256_prf);
	br_ssl_engine_set_prf_sha384(eng, &br_tls12_sha384_prf);
	br_ssl_engine_set_default_ec(eng);
	br_ssl_engine_set_default_aes_gcm(eng);
	br_ssl_engine_set_default_chapol(eng);
	br_ssl_engine_set_buffer(eng, iobuf, sizeof iobuf, 1);
	if (!rand_bytes(seed, sizeof seed))
		die_sys(111, "fatal: no randomness from the kernel");
	br_ssl_engine_inject_entropy(eng, seed, sizeof seed);
	memset(seed, 0, sizeof seed);
}
