/* control/senderlogins (src/postern-smtpd/senders.c, linked from its
 * source): what a line may be, who may send as what, the domains DKIM may
 * sign for, and a broken file deciding nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"
#include "postern-smtpd/senders.c"

static char dir[] = "/tmp/postern-unit-senders.XXXXXX";

static int load(const char *text)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof path, "%s/senderlogins", dir);
	if (!text) {
		unlink(path);
	} else {
		if (!(f = fopen(path, "w")))
			return -2;
		fputs(text, f);
		fclose(f);
	}
	return senders_load();
}

static int may(const char *login, const char *addr)
{
	size_t n = strlen(addr);
	return senders_mapped(login, strlen(login), addr, n, addr_at(addr, n));
}

int main(void)
{
	struct str d = STR_INIT;

	if (!mkdtemp(dir))
		return 111;
	control_from(dir);

	CHECK(load(0) == 0 && may("alice", "info@example.org") == 0, "no file: nobody may send as anything by it");
	CHECK(load("# who sends as what\n"
	           "Info@Example.ORG  alice bob   # the shared box\n"
	           "@shop.example\tcarol@virt.example\n"
	           "sales@example.org carol@virt.example\n"
	           "@Big.Example Alice\n") == 0, "a file of four entries (a comment after one) loads");
	CHECK(may("alice", "info@example.org") == 1 && may("bob", "info@example.org") == 1,
	      "an address entry: each of its logins, the address in any case");
	CHECK(may("carol", "info@example.org") == 0 && may("alic", "info@example.org") == 0 &&
	      may("alice", "info2@example.org") == 0 && may("alice", "nfo@example.org") == 0 &&
	      may("#", "info@example.org") == 0, "nobody else, no other address (no prefix or suffix), no comment word");
	CHECK(may("carol@virt.example", "anyone@shop.example") == 1 && may("carol@virt.example", "x@sub.shop.example") == 0 &&
	      may("alice", "anyone@shop.example") == 0, "a domain entry: every address there, not its subdomains");
	CHECK(may("Alice", "x@big.example") == 1 && may("alice", "x@big.example") == 0,
	      "logins matched exactly: Alice is not alice");
	d.len = 0;
	CHECK(senders_domains("carol@virt.example", 18, &d) && d.len == strlen("shop.example") + 1 && !strcmp(d.s, "shop.example"),
	      "DKIM: the domain of carol's @domain entry, not of her single address");
	d.len = 0;
	CHECK(senders_domains("alice", 5, &d) && d.len == 0, "alice's single address gives no DKIM domain");
	d.len = 0;
	CHECK(senders_addresses("alice", 5, &d) && d.len == strlen("info@example.org") + 1 && !strcmp(d.s, "info@example.org"),
	      "but the address itself, for -f");
	d.len = 0;
	CHECK(senders_addresses("carol@virt.example", 18, &d) && d.len == strlen("sales@example.org") + 1,
	      "carol's single address, not her domain");
	d.len = 0;
	CHECK(load("@a.example alice\n@A.Example alice\n@[192.0.2.1] alice\n") == 0 && may("alice", "x@[192.0.2.1]") == 1 &&
	      senders_domains("alice", 5, &d) && d.len == strlen("a.example") + 1,
	      "a domain two entries give is named once; an address literal none (it can have no key)");
	CHECK(load("x@[IPv6:2001:db8::1] alice\n") == 0 && may("alice", "x@[ipv6:2001:db8::1]") == 1,
	      "an IPv6 literal entry, checked before it is lower-cased as the session's senders are");
	{
		const char *bad[] = {
			"info@example.org\n",                 /* no login */
			"info@example.org # alice\n",         /* only a comment after it */
			"info.example.org alice\n",           /* no @ */
			"info@exa_mple.org alice\n",          /* _ in a domain */
			"info@example.org al/ice\n",          /* not a login name */
			"@ alice\n",                          /* an empty domain */
			"info@example.org alice\x01\n",       /* a control byte in a login */
			"\"info\"@example.org alice\n",       /* quoted: never a session's sender */
			"a@b@example.org alice\n",            /* an @ in the local part */
			"info@example.org alice@Virt.Example\n", /* a virtual login is lower case */
		};
		size_t i;
		for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
			char text[128];
			snprintf(text, sizeof text, "# comment\n\nok@example.org alice\n@shop.example alice\n%s", bad[i]);
			CHECK(load(text) == 0 && may("alice", "ok@example.org") == -1 && may("alice", "x@y.org") == -1,
			      "a malformed entry: the file decides nothing (-1, so 451), its good entries neither");
			d.len = 0;
			CHECK(senders_domains("alice", 5, &d) && d.len == 0, "and gives DKIM no domain");
		}
	}
	CHECK(load("ok@example.org alice\n") == 0 && may("alice", "ok@example.org") == 1, "a good file again: usable again");
	{
		char path[64];
		snprintf(path, sizeof path, "%s/senderlogins", dir);
		CHECK(chmod(path, 0) == 0, "the file made unreadable");
		if (getuid() != 0)
			CHECK(senders_load() == -1, "an unreadable file is an error, never no entries");
		else
			CHECK(1, "an unreadable file: skipped, root reads it all the same");
	}
	load(0);
	rmdir(dir);
	str_free(&d);
	return check_done();
}
