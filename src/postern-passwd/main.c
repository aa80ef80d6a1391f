/* postern-passwd: the admin's tool for the POP3 password file,
 * HOME/secret/auth/passwd, and the POP3 roster, HOME/users/pop3
 * (doc/pop3.md, "The password file", "The roster").
 *
 * usage: postern-passwd [-h HOME] set USER     (the password on stdin)
 *        postern-passwd [-h HOME] delete USER
 *        postern-passwd [-h HOME] list
 *
 * Run as root.  set reads the password and refuses one no client could
 * send; adds USER to the roster, as root, since postern-auth must not be
 * able to name a user postern-pspawn starts a session for; then becomes
 * postern-auth for good (the file is postern-auth's, and root parses
 * nothing of it), hashes the password with argon2id at libsodium's
 * interactive limits, the cost postern-auth's dummy hash has, and writes
 * the file anew with USER's line replaced.  delete takes USER off the
 * roster first, then out of the file: a failure half-way leaves a name
 * that cannot log in, never one that can with no roster line to see.
 * list prints the names of the file.  Exit 0, 100 for a usage error or
 * bad input (a name doc/pop3.md refuses, a password refused, a delete of
 * a name in neither file, a user who may not do it), 111 for a temporary
 * failure.  postern-passwd(8). */
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "passwd.h"
#include "die.h"
#include "home.h"
#include "file.h"
#include "loginname.h"
#include "str.h"

#define USAGE "postern-passwd [-h HOME] set USER | delete USER | list"

/* USER:HASH for password (n bytes), which is wiped. */
static void hashed(const char *user, char *password, size_t n, struct str *line)
{
	char hash[crypto_pwhash_argon2id_STRBYTES];

	if (crypto_pwhash_argon2id_str(hash, password, n, crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE,
	                               crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE) != 0)
		die(111, "fatal: unable to hash the password: out of memory");
	sodium_memzero(password, n);
	if (!str_copys(line, user) || !str_catc(line, ':') || !str_cats(line, hash))
		die_nomem();
}

int main(int argc, char **argv)
{
	struct str authdir = STR_INIT, usersdir = STR_INIT, file = STR_INIT, line = STR_INIT;
	struct table pwtable = { 0, "passwd", ':', PWFILE_MAX, "4 MB" };
	struct table roster = { 0, "pop3", 0, ROSTER_MAX, "1 MB" };
	const char *home = 0, *cmd, *user = 0;
	char password[PASSWORD_MAX + 1];
	size_t at, n = 0;
	struct who w;
	int opt, listed = 0;

	progname = "postern-passwd";
	while ((opt = getopt(argc, argv, "+h:")) != -1) {
		switch (opt) {
		case 'h': home = optarg; break;
		default: die_usage(USAGE);
		}
	}
	cmd = optind < argc ? argv[optind++] : "";
	if (strcmp(cmd, "set") == 0 || strcmp(cmd, "delete") == 0)
		user = optind < argc ? argv[optind++] : 0;
	else if (strcmp(cmd, "list") != 0)
		die_usage(USAGE);
	if (optind != argc || (cmd[0] != 'l' && !user))
		die_usage(USAGE);
	if (!home)
		home = home_dir();
	if (!path_join(&authdir, home, "secret/auth") || !path_join(&file, authdir.s, "passwd") ||
	    !path_join(&usersdir, home, "users"))
		die_nomem();
	pwtable.dir = authdir.s;
	roster.dir = usersdir.s;
	umask(077);
	who_runs(authdir.s, usersdir.s, user != 0, &w);
	if (user && !login_name(user, strlen(user), &at))
		die(100, "fatal: not a login name (doc/pop3.md, \"Names\"): ", user);
	/* the password before any change: one refused changes nothing */
	if (cmd[0] == 's')
		n = password_read(password);
	/* The roster's lock stays ours until we exit, past the password
	 * file's change: a set and a delete of one name at once then happen
	 * one after the other in both files, never half of each. */
	if (user)
		listed = rewrite(&roster, user, cmd[0] == 's' ? user : 0, 1);
	become(&w);
	if (sodium_init() < 0)
		die(111, "fatal: unable to initialize libsodium");

	if (cmd[0] == 'l') {
		list(file.s);
	} else if (cmd[0] == 's') {
		hashed(user, password, n, &line);
		(void)rewrite(&pwtable, user, line.s, 0);
	} else if (!rewrite(&pwtable, user, 0, 0)) {
		if (!listed)
			die(100, "fatal: no such user in ", file.s, " nor in the roster: ", user);
		warn("warning: ", user, " had no password in ", file.s, "; taken off the roster");
	}
	str_free(&authdir);
	str_free(&usersdir);
	str_free(&file);
	str_free(&line);
	return 0;
}
