/* The TRANSACTION state's commands (RFC 1939 5 and 7, RFC 2449 5).  A
 * message number names the listing made at login, 1 first; a deleted one
 * is as good as absent until RSET.  QUIT is main.c's. */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include "pop3d.h"
#include "copy.h"
#include "log.h"
#include "uidl.h"

/* The message numbered n, or NULL when there is none (answered here). */
static struct msg *message(unsigned long long n)
{
	if (n == 0 || n > md.n) {
		reply("-ERR no such message");
		return 0;
	}
	if (md.m[n - 1].deleted) {
		put("-ERR message ");
		putu(n);
		reply(" is deleted");
		return 0;
	}
	return &md.m[n - 1];
}

void live(unsigned long long *count, unsigned long long *octets)
{
	size_t i;

	*count = *octets = 0;
	for (i = 0; i < md.n; i++)
		if (!md.m[i].deleted) {
			++*count;
			*octets += md.m[i].size;
		}
}

void put_summary(void)
{
	unsigned long long count, octets;

	live(&count, &octets);
	putu(count);
	put(count == 1 ? " message (" : " messages (");
	putu(octets);
	put(" octets)");
}

static void stat_(void)
{
	unsigned long long count, octets;

	live(&count, &octets);
	put("+OK ");
	putu(count);
	put(" ");
	putu(octets);
	reply("");
}

static void put_uidl(size_t i)
{
	char id[UIDL_MAX];
	const char *name = maildrop_name(&md, i);

	putb(id, uidl_make(id, name, uidl_uniq_len(name, strlen(name))));
}

/* LIST and UIDL: one message's line, or all of them. */
static void listing(const struct command *c, int uidl)
{
	size_t i;

	if (c->nargs == 1) {
		if (!message(c->arg[0]))
			return;
		put("+OK ");
		putu(c->arg[0]);
		put(" ");
		if (uidl)
			put_uidl((size_t)c->arg[0] - 1);
		else
			putu(md.m[c->arg[0] - 1].size);
		reply("");
		return;
	}
	if (uidl)
		put("+OK unique-id listing follows");
	else {
		put("+OK ");
		put_summary();
	}
	reply("");
	for (i = 0; i < md.n; i++) {
		if (md.m[i].deleted)
			continue;
		putu(i + 1);
		put(" ");
		if (uidl)
			put_uidl(i);
		else
			putu(md.m[i].size);
		reply("");
	}
	reply(".");
}

static void log_read_failed(size_t i)
{
	struct logline l = { STR_INIT };

	log_begin(&l, "read_failed");
	log_kv(&l, "file", maildrop_name(&md, i));
	log_kv(&l, "error", strerror(errno));
	log_end(&l);
}

/* RETR (retr set, every line) and TOP (the header and so many body lines). */
static void send_message(unsigned long long n, unsigned long long lines, int retr)
{
	struct msg *m = message(n);
	size_t i = (size_t)n - 1;
	unsigned long long octets;
	int fd, r;

	if (!m)
		return;
	fd = maildrop_open_msg(&md, i);
	if (fd == -1) {
		if (errno == ENOENT) {
			put("-ERR message ");
			putu(n);
			reply(" is gone: another reader took it");
			return;
		}
		log_read_failed(i);
		put("-ERR [SYS/TEMP] unable to read message ");
		putu(n);
		reply("");
		return;
	}
	if (retr) {
		put("+OK ");
		putu(m->size);
		reply(" octets");
	} else
		reply("+OK top of message follows");
	r = copy_message(fd, &out, lines, &octets);
	if (r == -2)
		client_failed();
	if (r == -1) {
		/* half a message is out: the client could not tell where it ends */
		log_read_failed(i);
		end_session("error", 111);
	}
	close(fd);
	reply(".");
	tally.octets += octets;
	if (retr && !m->retrieved) {
		m->retrieved = 1;
		tally.retrieved++;
	}
}

static void capa(void)
{
	reply("+OK capability list follows");
	reply("TOP");
	reply("UIDL");
	reply("RESP-CODES");
	reply("PIPELINING");
	reply("IMPLEMENTATION postern");
	reply(".");
}

void command_run(const struct command *c)
{
	struct msg *m;
	size_t i;

	switch (c->verb) {
	case V_STAT:
		stat_();
		break;
	case V_LIST:
		listing(c, 0);
		break;
	case V_UIDL:
		listing(c, 1);
		break;
	case V_RETR:
		send_message(c->arg[0], COPY_ALL, 1);
		break;
	case V_TOP:
		send_message(c->arg[0], c->arg[1], 0);
		break;
	case V_DELE:
		if (!(m = message(c->arg[0])))
			break;
		m->deleted = 1;
		put("+OK message ");
		putu(c->arg[0]);
		reply(" deleted");
		break;
	case V_NOOP:
		reply("+OK");
		break;
	case V_RSET:
		for (i = 0; i < md.n; i++)
			md.m[i].deleted = 0;
		put("+OK maildrop has ");
		put_summary();
		reply("");
		break;
	case V_CAPA:
		capa();
		break;
	case V_QUIT:
		break; /* main.c's */
	}
}
