#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "home.h"
#include "die.h"
#include "file.h"

static char *home;

const char *home_dir(void)
{
	char *exe, *slash;
	const char *env;

	if (home)
		return home;
	env = secure_getenv("POSTERN_HOME");
	if (env && env[0] == '/') {
		home = strdup(env);
		if (!home)
			die_nomem();
		return home;
	}
	/* The kernel's link is already absolute and resolved: one readlink
	 * where realpath() would read every component of it again. */
	exe = malloc(PATH_MAX + 1);
	if (!exe)
		die_nomem();
	{
		ssize_t n = readlink("/proc/self/exe", exe, PATH_MAX);
		if (n == -1)
			die_sys(111, "fatal: unable to find my own executable");
		if (n == 0 || n >= PATH_MAX || exe[0] != '/')
			die(111, "fatal: unable to find my own executable: /proc/self/exe is not an absolute path below PATH_MAX");
		exe[n] = 0;
	}
	slash = strrchr(exe, '/');
	if (slash)
		*slash = 0;
	slash = strrchr(exe, '/');
	if (!slash || strcmp(slash, "/bin") != 0)
		die(111, "fatal: not installed as HOME/bin/NAME and POSTERN_HOME is not set: ", exe);
	*slash = 0;
	if (!exe[0]) {
		exe[0] = '/';
		exe[1] = 0;
	}
	home = exe;
	return home;
}

int home_path(struct str *out, const char *name)
{
	return path_join(out, home_dir(), name);
}
