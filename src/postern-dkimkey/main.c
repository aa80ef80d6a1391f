/* postern-dkimkey: makes a DKIM key for postern-dkim and prints the DNS
 * record that publishes it (doc/dkim.md; postern-dkimkey(8)).
 *
 * usage: postern-dkimkey [-t rsa|ed25519] [-b bits] DOMAIN SELECTOR
 *        postern-dkimkey -p DOMAIN SELECTOR
 *
 * The first form, as root, makes a new key (RSA of 2048 bits unless told
 * otherwise: every verifier knows RSA, while Ed25519 is only RFC 8463's)
 * into HOME/secret/dkim/DOMAIN/SELECTOR, postern-dkim's, mode 0600,
 * making the directory DOMAIN (postern-dkim's, 0700) if need be.  A
 * selector that has a key already is refused: a published key is
 * replaced by one of a new selector, so that mail signed with the old one
 * still verifies while it is in transit.  The key is written under a
 * temporary name, synced and renamed (without replacing anything), and
 * the directory synced.  Then the record goes to stdout, and a reminder
 * of what else to do to stderr.  -p prints the record of the key there
 * is, read as postern-dkim (root drops to it), so that what is printed
 * is what postern-dkim can read.
 *
 * Exit codes: 0 done; 100 a usage error, a name DKIM cannot use (the
 * record's name SELECTOR._domainkey.DOMAIN too), a selector taken; 111 a
 * system error (nothing is left behind: a key file is there whole, or
 * not at all). */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>
#include "keymaker.h"
#include "ascii.h"
#include "conf.h"
#include "die.h"
#include "file.h"
#include "fmt.h"
#include "home.h"
#include "io.h"
#include "str.h"

#define USAGE "postern-dkimkey [-t rsa|ed25519] [-b bits] DOMAIN SELECTOR | postern-dkimkey -p DOMAIN SELECTOR"

static char domain[DKIM_NAME_MAX + 1], selector[DKIM_NAME_MAX + 1];
static struct dkimkey key;
static struct str pem = STR_INIT;

/* arg in lower case into out, if it is a name DKIM can use */
static void name(char out[DKIM_NAME_MAX + 1], const char *arg, int is_selector)
{
	size_t n = strlen(arg), i;

	if (n > DKIM_NAME_MAX)
		n = 0;
	for (i = 0; i < n; i++)
		out[i] = (char)ascii_tolower(arg[i]);
	out[n] = 0;
	if (!dkimkey_name_ok(out, n, is_selector))
		die(100, is_selector ? "fatal: not a selector (labels of letters, digits, '-' and '_'): "
		                     : "fatal: not a domain of two or more labels of letters, digits and '-': ", arg);
}

static void path(struct str *out, const char *a, const char *b)
{
	if (!home_path(out, "secret/dkim") || (a && (!str_catc(out, '/') || !str_cats(out, a))) ||
	    (b && (!str_catc(out, '/') || !str_cats(out, b))))
		die_nomem();
}

/* -p: the record of the key there is, read as postern-dkim */
static void print_existing(const struct passwd *pw)
{
	struct str keypath = STR_INIT;

	if (geteuid() == 0 && (setgroups(0, 0) == -1 || setgid(pw->pw_gid) == -1 || setuid(pw->pw_uid) == -1))
		die_sys(111, "fatal: unable to become ", pw->pw_name);
	path(&keypath, domain, selector);
	dkimkey_load(&key, keypath.s);
	record_print(domain, selector, &key);
	dkimkey_wipe(&key);
	str_free(&keypath);
}

static int domfd = -1;
static char tmpname[5 + 2 * FMT_ULONG];

/* A failure once the temporary file exists: it goes, then we do. */
static _Noreturn void fail(int code, const char *a, const char *b)
{
	int e = errno;

	if (unlinkat(domfd, tmpname, 0) == -1 && errno != ENOENT)
		warn_sys("warning: unable to remove the temporary file ", tmpname, " beside ", b);
	errno = e;
	if (code == 100)
		die(100, "fatal: ", a, b);
	die_sys(code, "fatal: ", a, b);
}

/* The directory DOMAIN under dkimdir, made (postern-dkim's, 0700) when
 * missing.  Opened without following a symbolic link: it is
 * postern-dkim's, and root must not be led to write elsewhere. */
static int open_domain(int dkimfd, const struct passwd *pw, const char *where, int *made)
{
	int fd = openat(dkimfd, domain, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;

	*made = 0;
	if (fd == -1 && errno == ENOENT) {
		if (mkdirat(dkimfd, domain, 0700) == -1)
			die_sys(111, "fatal: unable to make ", where);
		*made = 1;
		fd = openat(dkimfd, domain, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		/* the one made here, which is root's: not one put in its
		 * place meanwhile, given away for whoever put it there */
		if (fd != -1 && (fstat(fd, &st) == -1 || st.st_uid != 0))
			die(111, "fatal: ", where, " was replaced after it was made: it is not root's");
		if (fd != -1 && (fchown(fd, pw->pw_uid, pw->pw_gid) == -1 || fchmod(fd, 0700) == -1))
			die_sys(111, "fatal: unable to give ", where, " to ", pw->pw_name);
	}
	if (fd == -1)
		die_sys(111, "fatal: unable to open the directory ", where);
	return fd;
}

static void make(const struct passwd *pw, char type, unsigned bits)
{
	struct str dkimdir = STR_INIT, domdir = STR_INIT, keypath = STR_INIT;
	struct stat st;
	char num[FMT_ULONG];
	size_t n;
	int dkimfd, tmpfd, made;

	if (geteuid() != 0)
		die(100, "fatal: run me as root: the key is made for ", pw->pw_name, ", in its directory");
	path(&dkimdir, 0, 0);
	path(&domdir, domain, 0);
	path(&keypath, domain, selector);
	dkimfd = openat(AT_FDCWD, dkimdir.s, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dkimfd == -1)
		die_sys(111, "fatal: unable to open the directory ", dkimdir.s, " (./install makes it)");
	domfd = open_domain(dkimfd, pw, domdir.s, &made);
	/* at once, before the work: the rename below makes sure of it */
	if (fstatat(domfd, selector, &st, AT_SYMLINK_NOFOLLOW) == 0)
		die(100, "fatal: ", keypath.s, " exists: a new key takes a new selector (postern-dkimkey(8))");
	if (errno != ENOENT)
		die_sys(111, "fatal: unable to look at ", keypath.s);

	if (type == 'r')
		make_rsa(&key, bits, &pem);
	else
		make_ed25519(&key, &pem);

	/* .tmp.PID.RANDOM: a name no selector can have (its first label is
	 * empty), nor a file left by an earlier run */
	memcpy(tmpname, ".tmp.", 5);
	n = 5 + fmt_ulong(tmpname + 5, (unsigned long long)getpid());
	tmpname[n++] = '.';
	tmpname[n + fmt_xlong(tmpname + n, randombytes_random())] = 0;
	tmpfd = openat(domfd, tmpname, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (tmpfd == -1)
		die_sys(111, "fatal: unable to create a temporary file in ", domdir.s);
	if (fchown(tmpfd, pw->pw_uid, pw->pw_gid) == -1 || fchmod(tmpfd, 0600) == -1)
		fail(111, "unable to give the new key to its user: ", keypath.s);
	if (write_all(tmpfd, pem.s, pem.len) == -1 || fsync(tmpfd) == -1 || close(tmpfd) == -1)
		fail(111, "unable to write the new key: ", keypath.s);
	str_wipe(&pem);
	if (rename_noreplace(domfd, tmpname, domfd, selector) == -1) {
		if (errno == EEXIST)
			fail(100, keypath.s, " exists: a new key takes a new selector (postern-dkimkey(8))");
		fail(111, "unable to rename the new key to ", keypath.s);
	}
	if (fsync(domfd) == -1 || (made && fsync(dkimfd) == -1))
		die_sys(111, "fatal: unable to sync the directory of ", keypath.s);
	(void)close(domfd);
	(void)close(dkimfd);

	record_print(domain, selector, &key);
	num[fmt_ulong(num, type == 'r' ? bits : 256)] = 0;
	warn("made ", keypath.s, " (", type == 'r' ? "RSA, " : "Ed25519, ", num, " bits). Publish the record above in "
	     "DNS, then add the line \"", domain, " ", selector, "\" to ", home_dir(),
	     "/control/dkimdomains and restart postern-dkim: s6-svc -r ", home_dir(), "/service/postern-dkim");
	dkimkey_wipe(&key);
	str_free(&dkimdir);
	str_free(&domdir);
	str_free(&keypath);
}

int main(int argc, char **argv)
{
	unsigned long long bits = DKIM_RSA_BITS_MIN;
	struct passwd *pw;
	char type = 'r';
	int opt, print = 0, have_t = 0, have_b = 0;

	progname = "postern-dkimkey";
	while ((opt = getopt(argc, argv, "t:b:p")) != -1) {
		switch (opt) {
		case 't':
			if (strcmp(optarg, "rsa") == 0)
				type = 'r';
			else if (strcmp(optarg, "ed25519") == 0)
				type = 'e';
			else
				die_usage(USAGE);
			have_t = 1;
			break;
		case 'b':
			if (!scan_ulong_all(optarg, strlen(optarg), &bits) || bits < DKIM_RSA_BITS_MIN ||
			    bits > DKIM_RSA_BITS_MAX)
				die(100, "fatal: -b takes 2048 to 4096 bits: ", optarg);
			have_b = 1;
			break;
		case 'p': print = 1; break;
		default: die_usage(USAGE);
		}
	}
	if (argc - optind != 2 || (print && (have_t || have_b)) || (have_b && type != 'r'))
		die_usage(USAGE);
	name(domain, argv[optind], 0);
	name(selector, argv[optind + 1], 1);
	if (!dkimkey_dns_name_ok(strlen(selector), strlen(domain)))
		die(100, "fatal: ", selector, DKIM_KEY_LABEL, domain, ", where the record would be published, "
		    "is over 253 bytes: choose a shorter selector");
	if (sodium_init() < 0)
		die(111, "fatal: unable to initialize libsodium");
	errno = 0;
	pw = getpwnam(conf_users[USER_DKIM]);
	if (!pw)
		die(111, "fatal: unknown user ", conf_users[USER_DKIM], ": run ./install");
	if (print)
		print_existing(pw);
	else
		make(pw, type, (unsigned)bits);
	return 0;
}
