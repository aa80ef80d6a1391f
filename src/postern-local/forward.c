#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "forward.h"
#include "copy.h"
#include "esmtpdsn.h"
#include "io.h"
#include "log.h"
#include "utf8.h"

/* RFC 3461 5.2.7.3: the sender asked to hear of this recipient's success,
 * and hears "expanded" from here; each copy's own success would be one
 * report more for what is, to the sender, one recipient. */
static unsigned copies_notify(unsigned notify, int single)
{
	if (single || !(notify & DSN_NOTIFY_SUCCESS))
		return notify;
	return notify == DSN_NOTIFY_SUCCESS ? DSN_NOTIFY_NEVER : notify & ~(unsigned)DSN_NOTIFY_SUCCESS;
}

/* The ORCPT given, or, for a recipient that asked something (NOTIFY),
 * one naming the address the message came to here, which the sender
 * knows; none (0) for a recipient that asked nothing, whose copies go on
 * as plain mail, if the xtext is too long, or for an address beyond
 * ASCII (SMTPUTF8), which rfc822 cannot name (RFC 6533 has a utf-8 type
 * for it, which a server without SMTPUTF8 would refuse).  -1 out of
 * memory. */
static int orcpt_for(struct str *out, const char *rcptparams, const char *recipient)
{
	const char *v;
	size_t vl, rl = strlen(rcptparams);

	out->len = 0;
	if (dsn_params_get(rcptparams, rl, "ORCPT=", &v, &vl))
		return str_copyb(out, v, vl) ? 1 : -1;
	if (!dsn_params_get(rcptparams, rl, "NOTIFY=", &v, &vl))
		return 0;
	if (utf8_has_high(recipient, strlen(recipient)))
		return 0;
	if (!str_copys(out, "rfc822;") || !xtext_encode(out, recipient, strlen(recipient)))
		return -1;
	return dsn_orcpt_ok(out->s, out->len) ? 1 : 0;
}

int forward_envelope(struct str *env, const struct dotfile *d, size_t upto, int single, const char *sender,
                     const char *recipient, const char *mailparams, const char *rcptparams)
{
	struct str orcpt = STR_INIT, nv = STR_INIT;
	const char *v;
	size_t vl, i, ml = strlen(mailparams);
	unsigned notify = 0;
	int ok, has_orcpt;

	if (dsn_params_get(rcptparams, strlen(rcptparams), "NOTIFY=", &v, &vl))
		notify = copies_notify(dsn_notify_parse(v, vl), single);
	has_orcpt = orcpt_for(&orcpt, rcptparams, recipient);
	/* the original sender, as qmail keeps it, then the message's DSN
	 * parameters, then the S record that marks a forwarded copy, so that
	 * postern-send rewrites that sender with SRS where the copy leaves
	 * (doc/srs.md) */
	env->len = 0;
	ok = has_orcpt >= 0 && str_catc(env, 'F') && str_cats(env, sender) && str_catz(env) &&
	     (!dsn_params_get(mailparams, ml, "RET=", &v, &vl) ||
	      (str_catc(env, 'R') && str_catb(env, v, vl) && str_catz(env))) &&
	     (!dsn_params_get(mailparams, ml, "ENVID=", &v, &vl) ||
	      (str_catc(env, 'E') && str_catb(env, v, vl) && str_catz(env))) &&
	     str_catc(env, 'S') && str_catz(env) && (!notify || dsn_notify_cat(&nv, notify));
	for (i = 0; ok && i < upto && i < d->n; i++) {
		const struct dot_entry *x = d->e + i;
		if (x->kind != DOT_FORWARD)
			continue;
		ok = (!notify || (str_catc(env, 'N') && str_cat(env, &nv) && str_catz(env))) &&
		     (!has_orcpt || (str_catc(env, 'O') && str_cat(env, &orcpt) && str_catz(env))) &&
		     str_catc(env, 'T') && str_catb(env, x->s, x->len) && str_catz(env);
	}
	ok = ok && str_catz(env);
	str_free(&orcpt);
	str_free(&nv);
	return ok;
}

int forward_inject(const char *queue, const char *dt, size_t dtlen, int msgfd,
                   const struct str *env, struct str *why)
{
	int pm[2], pe[2], st, wr;
	pid_t pid;

	why->len = 0;
	if (pipe2(pm, O_CLOEXEC) == -1) {
		str_copys(why, "4.3.0 unable to create a pipe for forwarding");
		return 111;
	}
	if (pipe2(pe, O_CLOEXEC) == -1) {
		close(pm[0]);
		close(pm[1]);
		str_copys(why, "4.3.0 unable to create a pipe for forwarding");
		return 111;
	}
	log_flush(); /* the child must not inherit held lines and write them again */
	pid = fork();
	if (pid == -1) {
		close(pm[0]); close(pm[1]); close(pe[0]); close(pe[1]);
		str_copys(why, "4.3.0 unable to fork for forwarding");
		return 111;
	}
	if (pid == 0) {
		char *argv[2] = { (char *)"postern-queue", 0 };
		char *envp[1] = { 0 };
		if (dup2(pm[0], 0) == -1 || dup2(pe[0], 1) == -1 || signal(SIGPIPE, SIG_DFL) == SIG_ERR)
			_exit(120);
		execve(queue, argv, envp);
		_exit(120);
	}
	close(pm[0]);
	close(pe[0]);
	/* qmail-queue's order: the whole message, then the envelope */
	wr = copy_message(pm[1], dt, dtlen, msgfd, 0);
	close(pm[1]);
	if (wr == 0 && write_all(pe[1], env->s, env->len) == -1)
		wr = -1;
	close(pe[1]);
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR) {
			str_copys(why, "4.3.0 lost track of postern-queue");
			return 111;
		}
	if (wr == -2) {
		str_copys(why, "4.3.0 unable to read the message for forwarding");
		return 111;
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0 && wr == 0)
		return 0;
	if (WIFEXITED(st)) {
		int x = WEXITSTATUS(st);
		if (x == 11 || x == 31 || x == 91) {
			(void)(str_cats(why, "5.3.0 postern-queue refused the forward, exit ") && str_catu(why, (unsigned long long)x));
			return 100;
		}
		if (x == 120)
			(void)(str_cats(why, "4.3.0 unable to run ") && str_cats(why, queue));
		else
			(void)(str_cats(why, "4.3.0 postern-queue failed to queue the forward, exit ") &&
			       str_catu(why, (unsigned long long)x));
		return 111;
	}
	(void)(str_cats(why, "4.3.0 postern-queue killed by signal ") &&
	       str_catu(why, (unsigned long long)(WIFSIGNALED(st) ? WTERMSIG(st) : 0)));
	return 111;
}
