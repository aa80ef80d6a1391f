#include <string.h>
#include <bearssl.h>
#include "sign.h"

/* BearSSL's hash ids, which the S record carries, 2 to 6. */
static const struct {
	const char *name;
	size_t len;
	const br_hash_class *class;
	const unsigned char *oid;
} hashes[] = {
	[br_sha1_ID] = { "sha1", br_sha1_SIZE, &br_sha1_vtable, BR_HASH_OID_SHA1 },
	[br_sha224_ID] = { "sha224", br_sha224_SIZE, &br_sha224_vtable, BR_HASH_OID_SHA224 },
	[br_sha256_ID] = { "sha256", br_sha256_SIZE, &br_sha256_vtable, BR_HASH_OID_SHA256 },
	[br_sha384_ID] = { "sha384", br_sha384_SIZE, &br_sha384_vtable, BR_HASH_OID_SHA384 },
	[br_sha512_ID] = { "sha512", br_sha512_SIZE, &br_sha512_vtable, BR_HASH_OID_SHA512 },
};

size_t sign_refuse(unsigned char out[SIGN_ANSWER_MAX], const char *why)
{
	size_t n = strlen(why);

	out[0] = 'E';
	memcpy(out + 1, why, n);
	return 1 + n;
}

size_t sign_answer(const struct key *k, const unsigned char *rec, size_t n,
                   unsigned char out[SIGN_ANSWER_MAX], const char **hash)
{
	unsigned id;
	size_t len, sig;

	*hash = 0;
	if (n < 2 || rec[0] != 'S')
		return sign_refuse(out, "not an S record");
	id = rec[1];
	if (id < br_sha1_ID || id > br_sha512_ID)
		return sign_refuse(out, "unknown hash id");
	len = hashes[id].len;
	if (n - 2 != len)
		return sign_refuse(out, "hash value of the wrong length");
	out[0] = 'G';
	if (k->ec) {
		/* RFC 6979: the nonce comes from the key and the hash, so no
		 * random generator is needed, nor can a bad one leak the key. */
		sig = br_ecdsa_sign_asn1_get_default()(br_ec_get_default(), hashes[id].class, rec + 2, k->ec, out + 1);
	} else {
		sig = br_rsa_pkcs1_sign_get_default()(hashes[id].oid, rec + 2, len, k->rsa, out + 1)
		      ? (k->rsa->n_bitlen + 7) / 8 : 0;
	}
	if (sig == 0)
		return sign_refuse(out, "signing failed");
	*hash = hashes[id].name;
	return 1 + sig;
}
