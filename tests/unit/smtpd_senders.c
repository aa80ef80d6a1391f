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
	           "Info@Example.ORG  alice bob\n"
	           "@shop.example\tcarol@virt.example\n"
	           "sales@example.org carol@virt.example\n") == 0, "a file of three entries loads");
	CHECK(may("alice", "info@example.org") == 1 && may("bob", "info@example.org") == 1,
	      "an address entry: each of its logins, the address in any case");
	CHECK(may("carol", "info@example.org") == 0 && may("alic", "info@example.org") == 0 &&
	      may("alice", "info2@example.org") == 0 && may("alice", "nfo@example.org") == 0,
	      "nobody else, and no other address (no prefix or suffix match)");
	CHECK(may("carol@virt.example", "anyone@shop.example") == 1 && may("carol@virt.example", "x@sub.shop.example") == 0 &&
	      may("alice", "anyone@shop.example") == 0, "a domain entry: every address there, not its subdomains");
	d.len = 0;
	CHECK(senders_domains("carol@virt.example", 18, &d) && d.len == strlen("shop.example") + 1 + strlen("example.org") + 1 &&
	      !strcmp(d.s, "shop.example") && !strcmp(d.s + 13, "example.org"), "the domains carol may send from, in order");
	d.len = 0;
	CHECK(senders_domains("alice", 5, &d) && d.len == strlen("example.org") + 1, "alice's: example.org");
	d.len = 0;
	CHECK(load("a@example.org alice\nb@example.org alice\n") == 0 && senders_domains("alice", 5, &d) &&
	      d.len == strlen("example.org") + 1, "a domain two entries give is named once");
	{
		const char *bad[] = {
			"info@example.org\n",                 /* no login */
			"info.example.org alice\n",           /* no @ */
			"info@exa_mple.org alice\n",          /* _ in a domain */
			"info@example.org al/ice\n",          /* not a login name */
			"@ alice\n",                          /* an empty domain */
			"info@example.org alice\x01\n",       /* a control byte in a login */
			"info@example.org alice@Virt.Example.\n", /* no login name */
		};
		size_t i;
		for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
			char text[128];
			snprintf(text, sizeof text, "ok@example.org alice\n%s", bad[i]);
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
