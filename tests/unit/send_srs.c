/* postern-send's SRS (src/postern-send/srssign.c): which senders leave
 * rewritten, exactly as doc/srs.md "Which senders are rewritten" says,
 * with a signer of the test's own standing for postern-srs; what is done
 * when postern-srs cannot sign (the recipients wait, one log line, a
 * pause before it is asked again); and what control/srsdomain makes of
 * the settings, each problem logged once a reading. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"
#include "postern-send/route.c"
#include "postern-send/srssign.c"
#include "die.h"
#include "file.h"

#define DAY 20425UL /* 2025-12-03 */
#define S2(lit) (lit), sizeof(lit) - 1
#define KEY1 "000102030405060708090a0b0c0d0e0f"
#define KEY2 "f0e0d0c0b0a090807060504030201000"

static struct route_conf rc;
static struct srs_conf on, nokey, off;
static struct srs_keys test_keys;
static unsigned long sign_day = DAY;
static int sign_calls;

/* postern-srs as the tests have it: srs_forward with test_keys on sign_day */
static int test_sign(const char *sender, size_t n, const char *domain, size_t dn, struct str *out, struct str *why)
{
	(void)why;
	sign_calls++;
	return srs_forward(out, sender, n, domain, dn, &test_keys, sign_day);
}

/* a postern-srs that cannot sign */
static int down_sign(const char *sender, size_t n, const char *domain, size_t dn, struct str *out, struct str *why)
{
	(void)sender, (void)n, (void)domain, (void)dn;
	sign_calls++;
	out->len = 0;
	return str_copys(why, "postern-srs: No such file or directory") ? SRS_UNAVAILABLE : SRS_NOMEM;
}
static char dir[] = "/tmp/send_srs.XXXXXX";
static char logpath[64];

static int no_users(const char *name, unsigned long long *uid)
{
	(void)name;
	(void)uid;
	return 0;
}

/* what srs_sender makes of sender, forwarded or not, under c */
static int sender_is(struct srs_conf *c, const char *sender, int forwarded, int want)
{
	struct envelope env;
	struct str out = STR_INIT;
	int r, ok;

	memset(&env, 0, sizeof env);
	env.sender = sender;
	env.sender_len = strlen(sender);
	env.forwarded = forwarded;
	r = srs_sender(c, &rc, &env, 1000, &out);
	ok = r == want && (r == SRSS_REWRITTEN) == (out.len > 0);
	if (!ok)
		printf("# %s: %d, want %d (%.*s)\n", sender, r, want, (int)out.len, out.s ? out.s : "");
	str_free(&out);
	return ok;
}

/* the SRS address srs_sender writes for sender, as it is reversed with keys */
static int rewritten_to(const char *sender, const char *prefix, const struct srs_keys *keys, int want,
                        const char *back)
{
	struct envelope env;
	struct str out = STR_INIT, rev = STR_INIT;
	size_t at;
	int ok;

	memset(&env, 0, sizeof env);
	env.sender = sender;
	env.sender_len = strlen(sender);
	env.forwarded = 1;
	ok = srs_sender(&on, &rc, &env, 1000, &out) == SRSS_REWRITTEN && out.len > strlen(prefix) &&
	     memcmp(out.s, prefix, strlen(prefix)) == 0;
	at = ok ? addr_at(out.s, out.len) : 0;
	ok = ok && at < out.len && strcmp(out.s + at, "@fwd.example") == 0 && addr_check(out.s, out.len) == ADDR_OK;
	ok = ok && srs_reverse(&rev, out.s, at, keys, DAY) == want &&
	     (want != SRS_OK || (rev.len == strlen(back) && memcmp(rev.s, back, rev.len) == 0));
	if (!ok)
		printf("# %s -> %.*s -> %.*s\n", sender, (int)out.len, out.s ? out.s : "", (int)rev.len,
		       rev.s ? rev.s : "");
	str_free(&out);
	str_free(&rev);
	return ok;
}

static int put(const char *name, const char *text)
{
	struct str p = STR_INIT;
	int fd, ok;

	ok = path_join(&p, dir, name) && (unlink(p.s) == 0 || 1) &&
	     (fd = openat(AT_FDCWD, p.s, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) != -1;
	if (ok) {
		ok = write(fd, text, strlen(text)) == (ssize_t)strlen(text);
		ok = close(fd) == 0 && ok;
	}
	str_free(&p);
	return ok;
}

static void drop(const char *name)
{
	struct str p = STR_INIT;

	if (path_join(&p, dir, name)) {
		if (unlink(p.s) == -1)
			(void)rmdir(p.s);
	}
	str_free(&p);
}

/* stderr caught into logged, from caught_begin to caught_end */
static struct str logged;
static int caught_fd = -1, saved_fd = -1;
static int caught_begin(void)
{
	caught_fd = openat(AT_FDCWD, logpath, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	saved_fd = dup(2);
	return caught_fd != -1 && saved_fd != -1 && dup2(caught_fd, 2) != -1;
}
static int caught_end(void)
{
	fflush(stderr);
	return dup2(saved_fd, 2) != -1 && close(saved_fd) == 0 && close(caught_fd) == 0 &&
	       read_file(logpath, &logged, 65536) == 1;
}

/* srs_conf_load with stderr caught: its result, the state, and the log */
static int load(struct srs_conf *c)
{
	int r;

	if (!caught_begin())
		return -2;
	srs_conf_free(c);
	r = srs_conf_load(c);
	return caught_end() ? r : -2;
}

static size_t lines(const struct str *s)
{
	size_t i, n = 0;
	for (i = 0; i < s->len; i++)
		n += s->s[i] == '\n';
	return n;
}

static int has(const struct str *s, const char *what)
{
	size_t n = strlen(what), i;
	for (i = 0; i + n <= s->len; i++)
		if (memcmp(s->s + i, what, n) == 0)
			return 1;
	return 0;
}

static void decisions(void)
{
	struct srs_keys first_only, second_only;
	/* 970 bytes before @example.org: the sender fits ADDR_MAX, its SRS
	 * address does not */
	static char long_local[970 + sizeof "@example.org"];

	memset(long_local, 'a', 970);
	memcpy(long_local + 970, "@example.org", sizeof "@example.org");
	check_list(&rc.locals, "mx.example.org", "localhost");
	check_list(&rc.virtuals, "virt.example", ".sub.virt.example");
	str_copys(&rc.seps, "-");
	rc.minuid = 1000;
	rc.vmail = "postern-vmail";
	rc.alias = "postern-alias";
	rc.lookup = no_users;
	on.state = SRSC_ON;
	on.sign = test_sign;
	str_copys(&on.domain, "fwd.example");
	CHECK(srs_keys_parse(&test_keys, S2(KEY1 "\n" KEY2 "\n")), "two keys");
	CHECK(srs_keys_parse(&first_only, S2(KEY1 "\n")) && srs_keys_parse(&second_only, S2(KEY2 "\n")), "each alone");
	nokey.state = SRSC_ON;
	nokey.sign = down_sign;
	str_copys(&nokey.domain, "fwd.example");
	off.state = SRSC_OFF;

	CHECK(rewritten_to("alice@example.org", "SRS0=", &test_keys, SRS_OK, "alice@example.org"),
	      "a forwarded copy from alice@example.org leaves as SRS0=...@srsdomain, which reverses to her");
	CHECK(rewritten_to("alice@example.org", "SRS0=", &first_only, SRS_OK, "alice@example.org"),
	      "  signed with the first key");
	CHECK(rewritten_to("alice@example.org", "SRS0=", &second_only, SRS_BADHASH, 0), "  not the second");
	CHECK(rewritten_to("Alice.B+tag@Sub.Example.ORG", "SRS0=", &test_keys, SRS_OK, "Alice.B+tag@Sub.Example.ORG"),
	      "  a sender's case and its extension kept");
	{
		struct envelope env;
		struct str out = STR_INIT;
		memset(&env, 0, sizeof env);
		env.sender = "alice@example.org";
		env.sender_len = 17;
		env.forwarded = 1;
		CHECK(srs_sender(&on, &rc, &env, 1000, &out) == SRSS_REWRITTEN && out.len == 46 &&
		          memcmp(out.s, "SRS0=", 5) == 0 && out.s[13] == '=' &&
		          memcmp(out.s + 16, "=example.org=alice@fwd.example", 30) == 0,
		      "  SRS0=HHHHHHHH=TT=example.org=alice@fwd.example exactly");
		str_free(&out);
	}
	CHECK(rewritten_to("SRS0=ABCDEF=AB=example.org=alice@first.example", "SRS1=", &test_keys, SRS_OK,
	                   "SRS0=ABCDEF=AB=example.org=alice@first.example"),
	      "an SRS0 sender of another host becomes SRS1, back to that address");

	CHECK(sender_is(&on, "alice@example.org", 0, SRSS_KEEP), "not a forwarded copy: kept");
	CHECK(sender_is(&on, "", 1, SRSS_KEEP), "a forwarded bounce (null sender): kept");
	CHECK(sender_is(&on, "#@[]", 1, SRSS_KEEP), "a forwarded double bounce (#@[]): kept");
	CHECK(sender_is(&on, "bob@mx.example.org", 1, SRSS_KEEP), "a sender in control/locals: kept");
	CHECK(sender_is(&on, "bob@MX.Example.Org", 1, SRSS_KEEP), "  in any case");
	CHECK(sender_is(&on, "bob@localhost", 1, SRSS_KEEP), "  another of control/locals");
	CHECK(sender_is(&on, "bob@virt.example", 1, SRSS_KEEP), "a sender in control/virtualdomains: kept");
	CHECK(sender_is(&on, "bob@a.sub.virt.example", 1, SRSS_KEEP), "  a subdomain it lists with a dot");
	CHECK(sender_is(&on, "bob@sub.virt.example", 1, SRSS_REWRITTEN), "  but not the dotted entry's own name");
	CHECK(sender_is(&on, "bob@fwd.example", 1, SRSS_KEEP), "a sender in control/srsdomain: kept");
	CHECK(sender_is(&on, "bob@FWD.EXAMPLE", 1, SRSS_KEEP), "  in any case");
	CHECK(sender_is(&on, "bob@x.fwd.example", 1, SRSS_REWRITTEN), "  but not a subdomain of it");
	CHECK(sender_is(&on, "\"a b\"@example.org", 1, SRSS_KEEP), "a quoted local part cannot be written: kept");
	CHECK(sender_is(&on, "a@[192.0.2.1]", 1, SRSS_KEEP), "an address literal cannot be written: kept");
	CHECK(sender_is(&on, long_local, 1, SRSS_KEEP), "an SRS address over 1000 bytes: kept");
	CHECK(sender_is(&off, "alice@example.org", 1, SRSS_KEEP), "SRS off: a forwarded copy is kept");

	sign_calls = 0;
	CHECK(caught_begin() && sender_is(&nokey, "alice@example.org", 1, SRSS_NOKEY) && caught_end() &&
	          sign_calls == 1 && lines(&logged) == 1 &&
	          has(&logged, "postern-send: srs_unavailable service=postern-srs why=\"postern-srs: No such file or directory\" forwards=deferred\n"),
	      "postern-srs cannot sign: a copy to rewrite waits, one line says why");
	sign_calls = 0;
	CHECK(caught_begin() && sender_is(&nokey, "alice@example.org", 0, SRSS_KEEP) && sender_is(&nokey, "", 1, SRSS_KEEP) &&
	          sender_is(&nokey, "bob@mx.example.org", 1, SRSS_KEEP) && sender_is(&nokey, "bob@fwd.example", 1, SRSS_KEEP) &&
	          sender_is(&nokey, "\"a b\"@example.org", 1, SRSS_KEEP) && caught_end() && sign_calls == 0 && logged.len == 0,
	      "  not a copy that would not be rewritten anyway (no forward, a bounce, a local sender, one in srsdomain, "
	      "a quoted one): kept, postern-srs not asked");
	CHECK(caught_begin() && sender_is(&nokey, "bob@example.org", 1, SRSS_NOKEY) && caught_end() && sign_calls == 0 &&
	          logged.len == 0, "  within the pause after a failure: waits without asking");
	{
		struct envelope env;
		struct str out = STR_INIT;
		int ok;
		memset(&env, 0, sizeof env);
		env.sender = "bob@example.org";
		env.sender_len = 15;
		env.forwarded = 1;
		ok = caught_begin();
		ok = ok && srs_sender(&nokey, &rc, &env, 1000 + SRS_ASK_PAUSE - 1, &out) == SRSS_NOKEY && sign_calls == 0;
		ok = ok && srs_sender(&nokey, &rc, &env, 1000 + SRS_ASK_PAUSE, &out) == SRSS_NOKEY && sign_calls == 1;
		ok = caught_end() && ok;
		CHECK(ok && logged.len == 0, "  asked again once the pause is over; a failure again is not logged again");
		nokey.sign = test_sign;
		ok = caught_begin();
		ok = ok && srs_sender(&nokey, &rc, &env, 1000 + 2 * SRS_ASK_PAUSE, &out) == SRSS_REWRITTEN && sign_calls == 2;
		ok = caught_end() && ok;
		CHECK(ok && lines(&logged) == 1 && has(&logged, "postern-send: srs_available service=postern-srs\n"),
		      "  signing again: rewritten, and one line says so");
		ok = caught_begin() && srs_sender(&nokey, &rc, &env, 1000 + 2 * SRS_ASK_PAUSE, &out) == SRSS_REWRITTEN;
		ok = caught_end() && ok;
		CHECK(ok && logged.len == 0 && sign_calls == 2,
		      "  and then nothing more is logged; the same sender within SRS_KEEP_SIGNED: the address kept, not asked");
		ok = caught_begin() &&
		     srs_sender(&nokey, &rc, &env, 1000 + 2 * SRS_ASK_PAUSE + SRS_KEEP_SIGNED, &out) == SRSS_REWRITTEN;
		ok = caught_end() && ok;
		CHECK(ok && logged.len == 0 && sign_calls == 3, "  asked again once SRS_KEEP_SIGNED is over");
		nokey.sign = down_sign;
		ok = caught_begin() && srs_sender(&nokey, &rc, &env, 500, &out) == SRSS_NOKEY && sign_calls == 4;
		ok = ok && srs_sender(&nokey, &rc, &env, 100, &out) == SRSS_NOKEY && sign_calls == 5;
		ok = caught_end() && ok;
		CHECK(ok && lines(&logged) == 1, "  a clock set back more than the pause does not stop the asking");
		str_free(&out);
	}
	{
		struct envelope env;
		struct str a = STR_INIT, b = STR_INIT;
		memset(&env, 0, sizeof env);
		env.sender = "alice@example.org";
		env.sender_len = 17;
		env.forwarded = 1;
		int ok;
		on.last_at = 0;
		ok = srs_sender(&on, &rc, &env, 1000, &a) == SRSS_REWRITTEN;
		on.last_at = 0;
		sign_day = DAY + 1;
		ok = ok && srs_sender(&on, &rc, &env, 1000, &b) == SRSS_REWRITTEN;
		sign_day = DAY;
		CHECK(ok && a.len == b.len &&
		          memcmp(a.s, b.s, a.len) != 0 && memcmp(a.s + 12, b.s + 12, a.len - 12) != 0,
		      "the day is in the address (TT)");
		str_free(&a);
		str_free(&b);
	}
}

static void loading(void)
{
	struct srs_conf c;

	memset(&c, 0, sizeof c);
	CHECK(load(&c) == 0 && c.state == SRSC_OFF && logged.len == 0, "no control/srsdomain: off, nothing logged");
	CHECK(put("control/srsdomain", "# comment\n\n") && load(&c) == 0 && c.state == SRSC_OFF && logged.len == 0,
	      "comments and blanks: off, nothing logged");
	CHECK(put("control/srsdomain", "[192.0.2.1]\n") && load(&c) == 0 && c.state == SRSC_OFF && lines(&logged) == 1 &&
	          has(&logged, "postern-send: srs_unavailable file=control/srsdomain why=\"not a domain name\" forwards=not_rewritten\n"),
	      "an address literal: off, and one line says so");
	CHECK(put("control/srsdomain", "not a domain\n") && load(&c) == 0 && c.state == SRSC_OFF && lines(&logged) == 1,
	      "no domain name: off, one line");
	CHECK(put("control/srsdomain", "  Fwd.Example  \n") && load(&c) == 0 && c.state == SRSC_ON &&
	          str_equals(&c.domain, "Fwd.Example") && c.sign == srs_ask_forward && logged.len == 0,
	      "a domain: on, signed by postern-srs, nothing logged (the key is postern-srs's business)");
	c.failing = 1;
	c.quiet_until = 99;
	CHECK(load(&c) == 0 && c.state == SRSC_ON && !c.failing && c.quiet_until == 0,
	      "  a reading (SIGHUP) forgets a failure and its pause");
	CHECK(put("control/srsdomain", "\n") && load(&c) == 0 && c.state == SRSC_OFF && logged.len == 0,
	      "an empty srsdomain: off again");
	{
		struct str p = STR_INIT;
		drop("control/srsdomain");
		CHECK(path_join(&p, dir, "control/srsdomain") && mkdir(p.s, 0700) == 0 && load(&c) == -1,
		      "a control/srsdomain that cannot be read: an error, as for every control file");
		str_free(&p);
		drop("control/srsdomain");
	}
	srs_conf_free(&c);
	CHECK(c.state == SRSC_OFF && c.domain.len == 0, "srs_conf_free: off");
}

int main(void)
{
	struct str p = STR_INIT;

	progname = "postern-send";
	if (!mkdtemp(dir) || !path_join(&p, dir, "control") || mkdir(p.s, 0700) == -1 ||
	    setenv("POSTERN_HOME", dir, 1) == -1) {
		printf("not ok 1 - scratch directory\n");
		return 1;
	}
	memcpy(logpath, dir, sizeof dir - 1);
	memcpy(logpath + sizeof dir - 1, "/log", 5);
	decisions();
	loading();
	drop("control");
	unlink(logpath);
	(void)rmdir(dir);
	str_free(&p);
	str_free(&logged);
	return check_done();
}
