/* BearSSL's server policy for postern: pick an ECDHE suite that fits the
 * key postern-keys holds and a hash the client accepts, and have
 * postern-keys make the ServerKeyExchange signature.  Only ECDHE suites
 * are offered, so do_keyx (RSA or static ECDH key exchange, a decryption
 * with the private key) is never called and always fails. */
#include <string.h>
#include "tlsio.h"
#include "die.h"

int policy_no_certificate;

static const struct {
	uint16_t id;
	int keytype;
	const char *name;
} suites[] = {
	{ BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, 'E', "ECDHE-ECDSA-AES128-GCM-SHA256" },
	{ BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, 'E', "ECDHE-ECDSA-AES256-GCM-SHA384" },
	{ BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, 'E', "ECDHE-ECDSA-CHACHA20-POLY1305" },
	{ BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, 'R', "ECDHE-RSA-AES128-GCM-SHA256" },
	{ BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, 'R', "ECDHE-RSA-AES256-GCM-SHA384" },
	{ BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, 'R', "ECDHE-RSA-CHACHA20-POLY1305" },
};
#define NSUITES (sizeof suites / sizeof suites[0])

size_t policy_suites(int keytype, uint16_t *out, size_t cap)
{
	size_t i, n = 0;
	for (i = 0; i < NSUITES && n < cap; i++)
		if (keytype == 0 || suites[i].keytype == keytype)
			out[n++] = suites[i].id;
	return n;
}

const char *policy_suite_name(uint16_t id)
{
	size_t i;
	for (i = 0; i < NSUITES; i++)
		if (suites[i].id == id)
			return suites[i].name;
	return "unknown";
}

/* The hash for the signature: the strongest common one of SHA-256,
 * SHA-384, SHA-512, then SHA-1 as the last resort TLS 1.2 allows. */
static int pick_hash(uint32_t client, int keytype)
{
	static const int order[] = { br_sha256_ID, br_sha384_ID, br_sha512_ID, br_sha1_ID };
	unsigned shift = keytype == 'E' ? 8 : 0;
	size_t i;

	for (i = 0; i < sizeof order / sizeof order[0]; i++)
		if (client >> (shift + (unsigned)order[i]) & 1)
			return order[i];
	return -1;
}

static int choose(const br_ssl_server_policy_class **pctx, const br_ssl_server_context *cc,
                  br_ssl_server_choices *choices)
{
	const struct policy *p = (const struct policy *)(const void *)pctx;
	const br_suite_translated *st;
	size_t i, n;
	unsigned want;
	int hash;

	if (br_ssl_engine_get_version(&cc->eng) != BR_TLS12)
		return 0;
	/* The key holder is asked only now, with the ClientHello in: its
	 * connection then lives from here to the signature, not through
	 * however long a client takes to say hello. */
	if (p->keys->fd == -1 && keys_open(p->keys) == -1) {
		warn("warning: no certificate: is postern-keys running?");
		policy_no_certificate = 1;
		return 0;
	}
	want = p->keys->type == 'E' ? BR_SSLKEYX_ECDHE_ECDSA : BR_SSLKEYX_ECDHE_RSA;
	hash = pick_hash(br_ssl_server_get_client_hashes(cc), p->keys->type);
	if (hash == -1)
		return 0;
	st = br_ssl_server_get_client_suites(cc, &n);
	for (i = 0; i < n; i++) {
		if ((unsigned)(st[i][1] >> 12) != want)
			continue;
		choices->cipher_suite = st[i][0];
		choices->algo_id = 0xFF00u + (unsigned)hash;
		choices->chain = p->keys->chain;
		choices->chain_len = p->keys->chain_len;
		return 1;
	}
	return 0;
}

static uint32_t do_keyx(const br_ssl_server_policy_class **pctx, unsigned char *data, size_t *len)
{
	(void)pctx;
	(void)data;
	(void)len;
	return 0;
}

static size_t do_sign(const br_ssl_server_policy_class **pctx, unsigned algo_id, unsigned char *data,
                      size_t hv_len, size_t len)
{
	struct policy *p = (struct policy *)(void *)pctx;
	unsigned char sig[1024];
	size_t n;

	/* choose() always asks for a hash computed by the engine */
	if (algo_id < 0xFF00u)
		return 0;
	n = keys_sign(p->keys, algo_id & 0xFF, data, hv_len, sig, sizeof sig);
	if (n == 0 || n > len)
		return 0;
	memcpy(data, sig, n);
	return n;
}

static const br_ssl_server_policy_class policy_class = {
	sizeof(struct policy), choose, do_keyx, do_sign
};

void policy_init(struct policy *p, struct keyholder *k)
{
	p->vtable = &policy_class;
	p->keys = k;
}
