/* A domain as the DNS checks ask for it: an internationalized one by its
 * A-labels (idna.h).  Apart from dnswire.c, which allocates
 * nothing, so that the fuzz targets build it alone. */
#include "dnswire.h"
#include "die.h"
#include "idna.h"
#include "utf8.h"

int dns_domain_name(const char *domain, size_t n, struct str *out)
{
	int r;

	if (n == 0 || domain[0] == '[')
		return 0;
	if (!utf8_has_high(domain, n)) {
		if (!str_copyb(out, domain, n))
			die_nomem();
		return 1;
	}
	r = idna_to_ascii(domain, n, out);
	if (r == IDNA_NOMEM)
		die_nomem();
	return r == IDNA_OK ? 1 : -1;
}
