/* Starting one postern-pop3d (doc/pop3.md, "postern-pspawn to
 * postern-pop3d").  It starts as root and becomes the user before it reads
 * anything (identity_take, as postern-local does), so this is a
 * posix_spawn: none of this process's memory is copied, and the user
 * cannot stop the child while we wait for its exec, for until then it is
 * root's.  Its environment is made here whole, nothing of ours in it;
 * every signal is back to its default and unblocked; fds 0 and 1 are the
 * client, 2 our log, and nothing else is open.  It gets a session of its
 * own, so that the user it becomes can signal neither us nor the other
 * sessions through a process group. */
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include "pspawn.h"
#include "home.h"
#include "identity.h"
#include "str.h"

#ifdef POSIX_SPAWN_SETSID
#define NEW_SESSION POSIX_SPAWN_SETSID
#else
#define NEW_SESSION POSIX_SPAWN_SETPGROUP /* a process group of its own, at least */
#endif

static int var(struct str *e, const char *name, const char *value)
{
	return str_copys(e, name) && str_catc(e, '=') && str_cats(e, value);
}

int pop3d_start(const char *path, const struct account *a, const struct request *req, pid_t *pid)
{
	static struct str ident, user, home, ip, phome;
	static char penv[] = "PATH=/usr/bin:/bin";
	char *envp[] = { 0, 0, 0, 0, 0, penv, 0 };
	char *argv[] = { (char *)"postern-pop3d", 0 };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, all;
	int r;

	if (a->uid == 0)
		return EPERM; /* account_get refused it already: never root, whatever happens */
	if (!identity_env(&ident, a->uid, a->gid, a->groups, a->ngroups) || !var(&user, "USER", a->name) || !var(&home, "HOME", a->home) ||
	    !var(&ip, "TCPREMOTEIP", req->ip) || !var(&phome, "POSTERN_HOME", home_dir()))
		return ENOMEM;
	envp[0] = ident.s;
	envp[1] = user.s;
	envp[2] = home.s;
	envp[3] = ip.s;
	envp[4] = phome.s;
	sigemptyset(&none);
	sigfillset(&all);
	if ((r = posix_spawn_file_actions_init(&fa)) != 0)
		return r;
	if ((r = posix_spawnattr_init(&at)) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return r;
	}
	/* the request's fds are at least 3 (main keeps 0, 1 and 2 open), so
	 * neither dup2 overwrites the other's source */
	if ((r = posix_spawn_file_actions_adddup2(&fa, req->fds[0], 0)) == 0 &&
	    (r = posix_spawn_file_actions_adddup2(&fa, req->fds[1], 1)) == 0 &&
	    (r = posix_spawn_file_actions_addclosefrom_np(&fa, 3)) == 0 &&
	    (r = posix_spawnattr_setsigmask(&at, &none)) == 0 &&
	    (r = posix_spawnattr_setsigdefault(&at, &all)) == 0 &&
	    (r = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | NEW_SESSION)) == 0)
		r = posix_spawn(pid, path, &fa, &at, argv, envp);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	return r;
}
