/* control/dkimdomains and the keys it names (doc/dkim.md, "Control
 * files"), read once at start: a line DOMAIN SELECTOR (blanks between,
 * either case, taken in lower case), '#' comment lines and empty ones;
 * at most two lines a domain, then one RSA key and one Ed25519 key.  The
 * key of a line is the file HOME/secret/dkim/DOMAIN/SELECTOR.  Anything
 * wrong ends the program (111) with the file and the line named: a key
 * holder that starts without a key it was told of would leave the
 * domain's mail unsigned, and its senders none the wiser. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include "holder.h"
#include "ascii.h"
#include "control.h"
#include "die.h"
#include "dkim.h"
#include "file.h"
#include "fmt.h"
#include "home.h"
#include "log.h"

static struct key keys[KEYS_MAX];
static size_t nkeys;

static _Noreturn void bad_line(const char *path, size_t line, const char *why, const char *what)
{
	char num[FMT_ULONG];

	num[fmt_ulong(num, line)] = 0;
	die(111, "fatal: ", path, ", line ", num, ": ", why, what);
}

/* the field of s (n bytes) at *i, in lower case into out: 0, or -1 when
 * there is none or it is too long to be a name */
static int field(const char *s, size_t n, size_t *i, char out[DKIM_NAME_MAX + 1], size_t *len)
{
	size_t a, j;

	while (*i < n && ascii_wsp_cr(s[*i]))
		(*i)++;
	a = *i;
	while (*i < n && !ascii_wsp_cr(s[*i]))
		(*i)++;
	*len = *i - a;
	if (*len == 0 || *len > DKIM_NAME_MAX)
		return -1;
	for (j = 0; j < *len; j++)
		out[j] = (char)ascii_tolower(s[a + j]);
	out[*len] = 0;
	return 0;
}

static void load_key(struct key *k, const char *path, size_t line)
{
	struct str keypath = STR_INIT;
	struct logline l = { STR_INIT };
	size_t i;

	if (!home_path(&keypath, "secret/dkim/") || !str_cats(&keypath, k->domain) || !str_catc(&keypath, '/') ||
	    !str_cats(&keypath, k->selector))
		die_nomem();
	dkimkey_load(&k->k, keypath.s);
	if (k->k.alg == 'e') {
		if (crypto_sign_ed25519_seed_keypair(k->edpk, k->ed, k->k.seed) != 0)
			die(111, "fatal: ", keypath.s, ": unable to make the Ed25519 key pair");
		sodium_memzero(k->k.seed, sizeof k->k.seed);
		k->siglen = crypto_sign_ed25519_BYTES;
		k->bits = 256;
	} else {
		k->siglen = (k->k.rsa.n_bitlen + 7) / 8;
		k->bits = k->k.rsa.n_bitlen;
	}
	for (i = 0; i < nkeys; i++)
		if (strcmp(keys[i].domain, k->domain) == 0 && keys[i].k.alg == k->k.alg)
			bad_line(path, line, k->k.alg == 'r' ? "a second RSA key for " : "a second Ed25519 key for ",
			         k->domain);
	log_begin(&l, "key");
	log_kv(&l, "d", k->domain);
	log_kv(&l, "s", k->selector);
	log_kv(&l, "a", dkim_alg_name(k->k.alg));
	log_kvu(&l, "bits", k->bits);
	log_end(&l);
	str_free(&keypath);
}

/* k's memory kept out of swap, before a key is read into it.  A failure
 * is a warning only, once: RLIMIT_MEMLOCK may be small (64 KB by default
 * before Linux 5.16, 8 MB since; a key takes about 2.5 KB). */
static void lock(struct key *k)
{
	static int warned;

	if (mlock(k, sizeof *k) == -1 && !warned) {
		warn_sys("warning: unable to lock the keys in memory (mlock), so they may be swapped out");
		warned = 1;
	}
}

static void take_line(const char *path, size_t line, const char *s, size_t n)
{
	struct key *k;
	size_t i = 0, dlen, slen, j, same = 0;

	while (i < n && ascii_wsp_cr(s[i]))
		i++;
	if (i == n || s[i] == '#')
		return;
	if (nkeys == KEYS_MAX)
		bad_line(path, line, "more than 1000 keys", "");
	k = &keys[nkeys];
	if (field(s, n, &i, k->domain, &dlen) == -1 || field(s, n, &i, k->selector, &slen) == -1)
		bad_line(path, line, "not DOMAIN SELECTOR", "");
	while (i < n && ascii_wsp_cr(s[i]))
		i++;
	if (i != n)
		bad_line(path, line, "not DOMAIN SELECTOR: more than two fields", "");
	if (!dkimkey_name_ok(k->domain, dlen, 0))
		bad_line(path, line, "the domain is not a name of two or more labels of letters, digits and '-'", "");
	if (!dkimkey_name_ok(k->selector, slen, 1))
		bad_line(path, line, "the selector is not a name of labels of letters, digits, '-' and '_'", "");
	if (!dkimkey_dns_name_ok(slen, dlen))
		bad_line(path, line, "SELECTOR" DKIM_KEY_LABEL "DOMAIN, where the key's record is published, "
		         "is over 253 bytes", "");
	for (j = 0; j < nkeys; j++) {
		if (strcmp(keys[j].domain, k->domain) != 0)
			continue;
		if (strcmp(keys[j].selector, k->selector) == 0)
			bad_line(path, line, "the same domain and selector as an earlier line: ", k->selector);
		same++;
	}
	if (same == DOMAIN_KEYS)
		bad_line(path, line, "a third key for ", k->domain);
	lock(k);
	load_key(k, path, line);
	nkeys++;
}

size_t table_load(void)
{
	struct str path = STR_INIT, text = STR_INIT;
	size_t pos = 0, line = 0;
	int r;

	if (!home_path(&path, "control/dkimdomains"))
		die_nomem();
	r = read_file(path.s, &text, CONTROL_MAX);
	if (r == -1 && errno == EFBIG)
		die(111, "fatal: ", path.s, " is over 1 MB");
	if (r == -1)
		die_sys(111, "fatal: unable to read ", path.s);
	while (pos < text.len) {
		const char *nl = memchr(text.s + pos, '\n', text.len - pos);
		size_t end = nl ? (size_t)(nl - text.s) : text.len;
		take_line(path.s, ++line, text.s + pos, end - pos);
		pos = end + 1;
	}
	str_free(&text);
	str_free(&path);
	return nkeys;
}

int table_find(const char *name, size_t n, struct found *f)
{
	const char *dot;
	size_t i;

	/* the name, then each parent that still holds a dot: never a
	 * top-level domain's keys, which no line may name anyway */
	while ((dot = memchr(name, '.', n)) != 0) {
		f->n = 0;
		for (i = 0; i < nkeys && f->n < DOMAIN_KEYS; i++) {
			if (strlen(keys[i].domain) != n || memcmp(keys[i].domain, name, n) != 0)
				continue;
			f->domain = keys[i].domain;
			f->keys[f->n++] = &keys[i];
		}
		if (f->n)
			return 1;
		n -= (size_t)(dot + 1 - name);
		name = dot + 1;
	}
	return 0;
}

void table_wipe(void)
{
	sodium_memzero(keys, nkeys * sizeof keys[0]);
	nkeys = 0;
}
