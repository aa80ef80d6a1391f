#include <string.h>
#include <bearssl.h>
#include "pem.h"
#include "die.h"

static void append(void *der, const void *b, size_t n)
{
	if (!str_catb(der, b, n))
		die_nomem();
}

static int stop(struct str *why, const char *a, const char *name, const char *b)
{
	if (!str_copys(why, a) || !str_cats(why, name) || !str_cats(why, b))
		die_nomem();
	return -1;
}

int pem_walk(const struct str *text, struct str *der, pem_each *each, void *ctx, struct str *why)
{
	br_pem_decoder_context pc;
	const unsigned char *p = (const unsigned char *)text->s;
	size_t len = text->len;
	char name[sizeof pc.name];
	const char *reason;
	int inside = 0, tail = 0;

	br_pem_decoder_init(&pc);
	name[0] = 0;
	for (;;) {
		size_t n = br_pem_decoder_push(&pc, p, len);
		p += n;
		len -= n;
		switch (br_pem_decoder_event(&pc)) {
		case BR_PEM_BEGIN_OBJ:
			memcpy(name, br_pem_decoder_name(&pc), sizeof name);
			name[sizeof name - 1] = 0;
			der->len = 0;
			br_pem_decoder_setdest(&pc, append, der);
			inside = 1;
			break;
		case BR_PEM_END_OBJ:
			inside = 0;
			if ((reason = each(ctx, name, der)) != 0)
				return stop(why, reason, "", "");
			break;
		case BR_PEM_ERROR:
			return stop(why, "the PEM object ", name, " is not valid base64");
		}
		if (len == 0) {
			/* The decoder sees an END line only once it has seen the
			 * newline after it, which a file's last line may lack. */
			if (tail)
				break;
			tail = 1;
			p = (const unsigned char *)"\n";
			len = 1;
		}
	}
	if (inside)
		return stop(why, "the PEM object ", name, " has no END line");
	return 0;
}
