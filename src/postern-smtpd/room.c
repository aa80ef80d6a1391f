/* control/queuefree at MAIL: the queue's file system must keep that many
 * bytes free besides the message the client says it will send (its
 * SIZE=, or nothing), or the transaction is refused for now with 452
 * 4.3.1 (RFC 1870 6.1, RFC 5321 4.5.3.1.10): better a sender that retries
 * than a disk filled to its last block under the mail already queued.
 * src/lib/room.h; postern-queue checks again, against half of it, at its
 * commit.  Read through the path HOME/queue, which postern-smtpd may
 * search but not open. */
#include <errno.h>
#include "smtpd.h"
#include "die.h"
#include "home.h"
#include "log.h"
#include "room.h"

#define REFUSAL "452 4.3.1 insufficient system storage; try again later"

const char *room_refusal(unsigned long long declared)
{
	static struct str path = STR_INIT;
	static int warned, logged;
	struct statvfs v;
	struct logline l = { STR_INIT };

	if (!cfg.queuefree)
		return 0;
	if (!path.len && !home_path(&path, "queue"))
		die_nomem();
	if (statvfs(path.s, &v) == -1) {
		/* no queue there, or none reachable: postern-queue will say
		 * so at the message, which this check cannot stand in for */
		if (errno != ENOENT && !warned++)
			warn_sys("warning: unable to read the free space of ", path.s);
		return 0;
	}
	if (!room_short(&v, cfg.queuefree, declared))
		return 0;
	/* once a session: a client that tries MAIL again and again must not
	 * fill the log of a disk that is filling already */
	if (logged++)
		return REFUSAL;
	log_begin(&l, "queue_full");
	log_kv(&l, "ip", client.ip);
	log_kvu(&l, "free", room_bytes(&v));
	log_kvu(&l, "inodes", v.f_favail);
	log_kvu(&l, "queuefree", cfg.queuefree);
	log_kvu(&l, "size", declared);
	log_end(&l);
	return REFUSAL;
}
