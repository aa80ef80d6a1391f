/* postern-passwd: the admin's tool for the POP3 password file,
 * HOME/secret/auth/passwd (doc/pop3.md, "The password file").
 *
 * usage: postern-passwd [-h HOME] set USER     (the password on stdin)
 *        postern-passwd [-h HOME] delete USER
 *        postern-passwd [-h HOME] list
 *
 * Run as root, it becomes postern-auth first thing (the file is
 * postern-auth's, and root parses nothing of it).  set hashes the
 * password with argon2id at libsodium's interactive limits, the cost
 * postern-auth's dummy hash has, and writes the file anew with USER's
 * line replaced; delete writes it without USER's line; list prints the
 * names.  Exit 0, 100 for a usage error or bad input (a name doc/pop3.md
 * refuses, an empty password, a delete of a name not there), 111 for a
 * temporary failure.  postern-passwd(8). */
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
	struct str dir = STR_INIT, file = STR_INIT, line = STR_INIT;
	const char *home = 0, *cmd, *user = 0;
	char password[PASSWORD_MAX + 1];
	size_t at;
	int opt;

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
	if (!path_join(&dir, home, "secret/auth") || !path_join(&file, dir.s, "passwd"))
		die_nomem();
	umask(077);
	become(dir.s);
	if (sodium_init() < 0)
		die(111, "fatal: unable to initialize libsodium");

	if (user && !login_name(user, strlen(user), &at))
		die(100, "fatal: not a login name (doc/pop3.md, \"Names\"): ", user);
	if (cmd[0] == 'l') {
		list(file.s);
	} else if (cmd[0] == 's') {
		hashed(user, password, password_read(password), &line);
		(void)rewrite(dir.s, user, line.s);
	} else if (!rewrite(dir.s, user, 0)) {
		die(100, "fatal: no such user in ", file.s, ": ", user);
	}
	str_free(&dir);
	str_free(&file);
	str_free(&line);
	return 0;
}
