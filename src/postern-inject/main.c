/* postern-inject: local mail injection, also installed as sendmail and
 * mailq (doc/postern-inject.8).  Reads a message on stdin, adds the Date,
 * Message-ID and From headers it lacks, and hands it to postern-queue.
 * Exit 0 queued, 100 permanent failure (bad address, bad usage), 111
 * temporary failure. */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include "inject.h"
#include "addr.h"
#include "control.h"
#include "date822.h"
#include "die.h"
#include "envelope.h"
#include "fmt.h"
#include "home.h"
#include "uniq.h"

#define USAGE "postern-inject [-t] [-i] [-f sender] [-F fullname] [-N dsn] [-R ret] [-V envid] [-bm|-bp|-bs] [--] [recipient ...]"

static _Noreturn void run(const char *name)
{
	struct str path = STR_INIT;
	char *argv[2];

	if (!str_cats(&path, "bin/") || !str_cats(&path, name))
		die_nomem();
	{
		struct str full = STR_INIT;
		if (!home_path(&full, path.s))
			die_nomem();
		argv[0] = (char *)name;
		argv[1] = 0;
		if (access(full.s, X_OK) == -1)
			die_sys(111, "fatal: unable to run ", full.s);
		execv(full.s, argv);
		die_sys(111, "fatal: unable to run ", full.s);
	}
}

/* The value of an option: the rest of this word, or the next word. */
static const char *optarg_of(int argc, char **argv, int *i, const char *rest)
{
	if (*rest)
		return rest;
	if (*i + 1 >= argc)
		die_usage(USAGE);
	return argv[++*i];
}

/* Parses sendmail's flags.  Flags that make no sense for postern are
 * accepted and ignored when programs pass them by habit (-oem, -odb, -v);
 * anything else is refused, so a typo never silently changes a delivery. */
static int opts_parse(int argc, char **argv, struct opts *o, char *mode)
{
	int i;

	o->dotstop = 1;
	o->tflag = 0;
	o->sender = 0;
	o->me = "";
	o->fullname = 0;
	o->notify = o->ret = o->envid = 0;
	*mode = 'm';
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (a[0] != '-' || a[1] == 0)
			break;
		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		for (a++; *a; a++) {
			switch (*a) {
			case 'i': o->dotstop = 0; continue;
			case 't': o->tflag = 1; continue;
			case 'v': case 'm': case 'n': case 'U': case 'G': continue;
			case 'f': case 'r': o->sender = optarg_of(argc, argv, &i, a + 1); break;
			case 'F': o->fullname = optarg_of(argc, argv, &i, a + 1); break;
			/* DSN (doc/dsn.md): the values are checked by dsnopt_records */
			case 'N': o->notify = optarg_of(argc, argv, &i, a + 1); break;
			case 'R': o->ret = optarg_of(argc, argv, &i, a + 1); break;
			case 'V': o->envid = optarg_of(argc, argv, &i, a + 1); break;
			case 'B': case 'h': case 'L': case 'O':
				(void)optarg_of(argc, argv, &i, a + 1); /* accepted, ignored */
				break;
			case 'A': break;  /* -Am, -Ac: sendmail's submit/daemon config choice */
			case 'o':
				if (strcmp(a + 1, "i") == 0)
					o->dotstop = 0;
				break; /* -oem, -odb, -odi, ...: ignored */
			case 'q': *mode = 'q'; break;
			case 'b':
				if (strcmp(a + 1, "m") == 0 || strcmp(a + 1, "p") == 0 || strcmp(a + 1, "s") == 0) {
					*mode = a[1];
					break;
				}
				die(100, "fatal: unsupported mode -", a, " (postern knows -bm, -bp and -bs)");
			default: {
				char bad[2] = { *a, 0 };
				die(100, "fatal: unknown option -", bad, "; usage: " USAGE);
			}
			}
			break; /* the option took the rest of this word */
		}
	}
	return i;
}

/* fd 0, 1 and 2 are open from here on, so no pipe lands on them. */
static void fds_ready(void)
{
	int fd;
	for (fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) == -1 && openat(AT_FDCWD, "/dev/null", fd ? O_WRONLY : O_RDONLY) != fd)
			_exit(111);
}

/* control/NAME if set, else def; dies unless it is a sane domain. */
static void domain_setting(const char *name, struct str *out, const struct str *def)
{
	int r = control_line(name, out);
	if (r == -1)
		die_sys(111, "fatal: unable to read control/", name);
	if (r == 0 && !str_copyb(out, def->s, def->len))
		die_nomem();
	if (!domain_check(out->s, out->len))
		die(111, "fatal: control/", name, " is not a domain: ", out->s);
}

static void me_setting(struct str *me)
{
	char host[256];
	int r = control_line("me", me);

	if (r == -1)
		die_sys(111, "fatal: unable to read control/me");
	if (r == 1) {
		if (!domain_check(me->s, me->len))
			die(111, "fatal: control/me is not a domain: ", me->s);
		return;
	}
	if (gethostname(host, sizeof host) == -1)
		host[0] = 0;
	host[sizeof host - 1] = 0;
	if (!str_copys(me, host) || (!domain_check(me->s, me->len) && !str_copys(me, "localhost")))
		die_nomem();
}

/* Qualifies and checks each NUL-separated address of list, adding it to
 * env after pre (the DSN records every recipient gets, or empty). */
static void rcpts_add(const struct str *list, const struct str *domain, const struct str *pre, struct str *env,
                      size_t *n)
{
	const char *p;
	struct str a = STR_INIT;

	for (p = list->s; p && p < list->s + list->len; p += strlen(p) + 1) {
		if (!str_copys(&a, p))
			die_nomem();
		if (addr_at(a.s, a.len) == a.len &&
		    (!str_catc(&a, '@') || !str_catb(&a, domain->s, domain->len)))
			die_nomem();
		switch (addr_check(a.s, a.len)) {
		case ADDR_OK: break;
		case ADDR_TOOLONG: die(100, "fatal: recipient address too long");
		default: die(100, "fatal: bad recipient address: ", a.s);
		}
		if (++*n > RCPT_MAX)
			die(100, "fatal: more than 100000 recipients");
		if (!str_cat(env, pre) || !str_catc(env, 'T') || !str_cat(env, &a) || !str_catz(env))
			die_nomem();
	}
	str_free(&a);
}

/* -f: "<>" or "" is the null sender; <addr> loses its brackets. */
static void sender_set(const char *f, const struct str *login, const struct str *host, struct str *s)
{
	size_t n;

	if (!f) {
		if (!str_copyb(s, login->s, login->len) || !str_catc(s, '@') || !str_cat(s, host))
			die_nomem();
	} else {
		n = strlen(f);
		if (n >= 2 && f[0] == '<' && f[n - 1] == '>') {
			f++;
			n -= 2;
		}
		if (!str_copyb(s, f, n))
			die_nomem();
		if (n && addr_at(s->s, s->len) == s->len &&
		    (!str_catc(s, '@') || !str_cat(s, host)))
			die_nomem();
	}
	switch (envelope_sender_ok(s->s, s->len)) {
	case ENV_OK: return;
	case ENV_TOOLONG: die(100, "fatal: sender address too long");
	default: die(100, "fatal: bad sender address: ", s->s);
	}
}

/* A display name as a quoted-string: no control bytes, '"' and '\' escaped. */
static int cat_name(struct str *out, const char *name)
{
	size_t i, n = 0;
	if (!str_catc(out, '"'))
		return 0;
	for (i = 0; name[i] && n < 200; i++, n++) {
		unsigned char c = (unsigned char)name[i];
		if (c < 0x20 || c == 0x7f)
			continue;
		if ((c == '"' || c == '\\') && !str_catc(out, '\\'))
			return 0;
		if (!str_catc(out, (char)c))
			return 0;
	}
	return str_cats(out, "\" ");
}

static void headers_add(struct str *head, const struct header_seen *seen, const struct opts *o,
                        const struct passwd *pw, const struct str *sender, const struct str *me)
{
	if (!seen->date && (!str_cats(head, "Date: ") || !date822_cat(head, time(0)) || !str_catc(head, '\n')))
		die_nomem();
	if (!seen->msgid) {
		if (!str_cats(head, "Message-ID: ") || !uniq_cat_msgid(head, me->s, me->len) || !str_catc(head, '\n'))
			die_sys(111, "fatal: unable to make a Message-ID (memory or randomness)");
	}
	if (!seen->from) {
		const char *name = o->fullname;
		char *gecos = 0;
		if (!name && pw->pw_gecos) {
			gecos = strdup(pw->pw_gecos);
			if (!gecos)
				die_nomem();
			gecos[strcspn(gecos, ",")] = 0; /* the other gecos fields are phone numbers */
			name = gecos;
		}
		if (!str_cats(head, "From: ") || (name && *name && !cat_name(head, name)) ||
		    !str_catc(head, '<') || !str_cat(head, sender) || !str_cats(head, ">\n"))
			die_nomem();
		free(gecos);
	}
}

int main(int argc, char **argv)
{
	static char ibuf[65536];
	struct opts o;
	struct io in;
	struct passwd *pw;
	struct header_seen seen = { 0, 0, 0, 0 };
	struct str me = STR_INIT, host = STR_INIT, domain = STR_INIT, login = STR_INIT;
	struct str sender = STR_INIT, fromaddr = STR_INIT, head = STR_INIT, body = STR_INIT;
	struct str hrcpts = STR_INIT, arcpts = STR_INIT, env = STR_INIT;
	struct str dsnmail = STR_INIT, dsnrcpt = STR_INIT;
	size_t nrcpt = 0;
	int first, eof, code, permanent;
	char mode;
	const char *base = argc > 0 ? strrchr(argv[0], '/') : 0;

	base = base ? base + 1 : (argc > 0 ? argv[0] : "postern-inject");
	progname = strcmp(base, "sendmail") == 0 ? "sendmail" : "postern-inject";
	fds_ready();
	if (strcmp(base, "mailq") == 0)
		run("postern-qstat");
	first = opts_parse(argc, argv, &o, &mode);
	if (mode == 'm') {
		const char *why = "";
		int r = dsnopt_records(o.notify, o.ret, o.envid, &dsnmail, &dsnrcpt, &why);
		if (r == 0)
			die_nomem();
		if (r == -1)
			die(100, "fatal: ", why, "; usage: " USAGE);
	}
	if (mode == 'p')
		run("postern-qstat");
	if (mode == 's')
		run("postern-smtpd");
	if (mode == 'q')
		return 0; /* postern-send runs the queue all the time */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		die_sys(111, "fatal: unable to ignore SIGPIPE");

	me_setting(&me);
	o.me = me.s;
	domain_setting("defaulthost", &host, &me);
	domain_setting("defaultdomain", &domain, &me);
	errno = 0;
	pw = getpwuid(getuid());
	if (!pw)
		die(111, "fatal: my uid has no passwd entry");
	if (!str_copys(&login, pw->pw_name))
		die_nomem();
	sender_set(o.sender, &login, &host, &sender);
	/* From: names the sender given with -f, else the user */
	if (!str_copyb(&fromaddr, sender.len ? sender.s : "", sender.len) ||
	    (!sender.len && (!str_cat(&fromaddr, &login) || !str_catc(&fromaddr, '@') || !str_cat(&fromaddr, &host))))
		die_nomem();

	for (; first < argc; first++)
		if (!addrlist_parse(argv[first], strlen(argv[first]), &arcpts))
			die_nomem();

	io_init(&in, 0, ibuf, sizeof ibuf);
	if (!str_ready(&head, 0))
		die_nomem();
	header_read(&in, &o, &head, &hrcpts, &seen, &body, &eof);
	headers_add(&head, &seen, &o, pw, &fromaddr, &me);

	if (!str_catc(&env, 'F') || !str_cat(&env, &sender) || !str_catz(&env) || !str_cat(&env, &dsnmail))
		die_nomem();
	rcpts_add(&arcpts, &domain, &dsnrcpt, &env, &nrcpt);
	rcpts_add(&hrcpts, &domain, &dsnrcpt, &env, &nrcpt);
	if (nrcpt == 0)
		die(100, !o.tflag ? "fatal: no recipients given (use -t to take them from the headers)"
		         : seen.resent ? "fatal: no recipients in Resent-To, Resent-Cc or Resent-Bcc"
		                         " (the message has Resent- fields), and none given"
		                       : "fatal: no recipients in To, Cc or Bcc, and none given");
	if (!str_catz(&env))
		die_nomem();

	code = qq_run(&head, &body, eof, &in, o.dotstop, &env);
	{
		struct str *all[] = { &me, &host, &domain, &login, &sender, &fromaddr, &head, &body,
		                      &hrcpts, &arcpts, &env, &dsnmail, &dsnrcpt };
		size_t k;
		for (k = 0; k < sizeof all / sizeof all[0]; k++)
			str_free(all[k]);
	}
	if (code == 0)
		return 0;
	if (code == 120)
		return 111; /* the child said why */
	{
		char num[FMT_ULONG + 1];
		const char *why = qq_meaning(code, &permanent);
		num[fmt_ulong(num, (unsigned long long)code)] = 0;
		die(permanent ? 100 : 111, "fatal: postern-queue refused the message: ", why, " (exit ", num, ")");
	}
}
