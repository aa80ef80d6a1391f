#include <errno.h>
#include <fcntl.h> /* AT_FDCWD */
#include <stdio.h> /* rename(2) only */
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "maildir.h"
#include "copy.h"
#include "file.h"
#include "io.h"
#include "uniq.h"

const char *maildir_host(void)
{
	static char host[256];

	if (!host[0]) {
		if (gethostname(host, sizeof host - 1) == -1 || !host[0]) {
			memcpy(host, "localhost", 10);
			return host;
		}
		host[sizeof host - 1] = 0;
	}
	return host;
}

/* One failure text for every step, so the admin sees which errno means what. */
static int fail(struct str *why, const char *what, const char *path, int e)
{
	const char *code = "4.3.0 ";

	if (e == ENOSPC || e == EDQUOT) {
		why->len = 0;
		str_cats(why, "4.2.2 mailbox full: ");
		str_cats(why, path);
		return 111;
	}
	why->len = 0;
	(void)(str_cats(why, code) && str_cats(why, what) && str_cats(why, path) &&
	       str_cats(why, ": ") && str_cats(why, strerror(e)));
	return 111;
}

static int missing(struct str *why, const char *dir)
{
	why->len = 0;
	(void)(str_cats(why, "4.2.1 Maildir missing: ") && str_cats(why, dir));
	return 111;
}

/* A message whose last line has no LF (BDAT allows it, and so does a
 * sendmail caller) gets one.  Every reader then counts the file alike:
 * Dovecot takes ,W= as the message's size with CRLF line ends and adds
 * nothing for an unended last line, so a ,W= that counted the CRLF
 * postern-pop3d must add before its "." made Dovecot fail the FETCH,
 * disconnect the client and rename the file (tests/t-local.sh, the
 * Dovecot section).  It is the CRLF any hop through DATA would have
 * added, and DKIM's canonicalizations add it too (RFC 6376 3.4.3, 3.4.4),
 * so no signature breaks. */
static int end_last_line(int fd, struct octets *count)
{
	if (!octets_unended(count))
		return 0;
	if (write_all(fd, "\n", 1) == -1)
		return -1;
	octets_add(count, "\n", 1);
	return 0;
}

/* The bit of newdir in later, added if need be; 0 if later is full or
 * the directory cannot be opened (the caller then fsyncs it at once,
 * which says what is wrong). */
static unsigned later_bit(struct dirsync *later, const char *newdir)
{
	struct stat st;
	size_t i;
	int fd;

	if (later->n == DIRSYNC_MAX)
		return 0;
	fd = openat(AT_FDCWD, newdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1)
		return 0;
	if (fstat(fd, &st) == -1 || !str_copys(&later->name[later->n], newdir)) {
		close(fd);
		return 0;
	}
	for (i = 0; i < later->n; i++)
		if (later->dev[i] == st.st_dev && later->ino[i] == st.st_ino) {
			close(fd);
			return 1u << i;
		}
	later->fd[later->n] = fd;
	later->dev[later->n] = st.st_dev;
	later->ino[later->n] = st.st_ino;
	return 1u << later->n++;
}

unsigned maildir_sync(struct dirsync *later, struct str *why)
{
	unsigned failed = 0;
	size_t i;

	for (i = 0; i < later->n; i++) {
		if (fsync(later->fd[i]) == -1) {
			if (!failed)
				(void)fail(why, "unable to fsync ", later->name[i].s, errno);
			failed |= 1u << i;
		}
		close(later->fd[i]);
	}
	later->n = 0;
	return failed;
}

int maildir_deliver(const char *dir, const char *pre, size_t prelen, int msgfd, struct str *why,
                    struct str *name, struct dirsync *later, unsigned *mask)
{
	unsigned bit;
	struct str uniq = STR_INIT, part = STR_INIT, tmp = STR_INIT, new = STR_INIT, newdir = STR_INIT;
	struct str final = STR_INIT;
	struct octets count = OCTETS_INIT;
	int fd = -1, tries, e, r = 111;

	why->len = 0;
	for (tries = 0; tries < 3; tries++) {
		if (!uniq_maildir(&uniq, maildir_host())) {
			/* errno: ENOMEM, or why getrandom(2) failed */
			r = fail(why, "unable to make a unique file name for ", dir, errno);
			goto out;
		}
		if (!str_copys(&part, "tmp/") || !str_cats(&part, uniq.s) || !path_join(&tmp, dir, part.s)) {
			r = fail(why, "out of memory writing ", dir, ENOMEM);
			goto out;
		}
		fd = open_excl(tmp.s, 0600);
		if (fd != -1 || errno != EEXIST)
			break;
	}
	if (fd == -1) {
		e = errno;
		r = e == ENOENT || e == ENOTDIR ? missing(why, dir) : fail(why, "unable to create ", tmp.s, e);
		goto out;
	}
	if (copy_message(fd, pre, prelen, msgfd, &count) != 0 || end_last_line(fd, &count) == -1) {
		r = fail(why, "unable to write ", tmp.s, errno);
		goto unlink_tmp;
	}
	if (fsync(fd) == -1) {
		r = fail(why, "unable to fsync ", tmp.s, errno);
		goto unlink_tmp;
	}
	e = close(fd);
	fd = -1;
	if (e == -1) {
		r = fail(why, "unable to close ", tmp.s, errno);
		goto unlink_tmp;
	}
	/* The name in new/ carries the file's size and its size with CRLF line
	 * ends (",S=" and ",W=", as Courier and Dovecot write them; W= is what
	 * IMAP's RFC822.SIZE and POP3's LIST say),
	 * so that postern-pop3d need not read the message at each login to
	 * count it.  Only now are they known; tmp/ keeps the bare unique name,
	 * which is what makes the pair unique. */
	if (!str_copyb(&final, uniq.s, uniq.len) || !str_cats(&final, ",S=") || !str_catu(&final, count.bytes) ||
	    !str_cats(&final, ",W=") || !str_catu(&final, octets_crlf(&count)) || !str_copys(&part, "new/") ||
	    !str_cat(&part, &final) || !path_join(&new, dir, part.s) || !path_join(&newdir, dir, "new")) {
		r = fail(why, "out of memory writing ", dir, ENOMEM);
		goto unlink_tmp;
	}
	/* A rename that refuses to replace is the Maildir commit (qmail's link
	 * then unlink) in one system call; link is for kernels and file
	 * systems without RENAME_NOREPLACE, and rename for those without hard
	 * links.  A tmp file a crash leaves behind is swept by the reader
	 * after 36 hours. */
	if (rename_noreplace(AT_FDCWD, tmp.s, AT_FDCWD, new.s) == 0) {
		/* delivered */
	} else if ((errno == EINVAL || errno == ENOSYS) && link(tmp.s, new.s) == 0) {
		(void)unlink(tmp.s);
	} else if ((errno == EPERM || errno == EOPNOTSUPP || errno == EXDEV) && rename(tmp.s, new.s) == 0) {
		/* a file system without hard links: rename is the same commit */
	} else {
		e = errno;
		r = e == ENOENT || e == ENOTDIR ? missing(why, dir) : fail(why, "unable to link into ", newdir.s, e);
		goto unlink_tmp;
	}
	if (later && (bit = later_bit(later, newdir.s)) != 0)
		*mask |= bit; /* durable once maildir_sync has run */
	else if (fsync_dir(newdir.s) == -1) {
		/* The file is in new/ but may not survive a crash: say so and let the
		 * queue retry.  A retry can duplicate; it cannot lose. */
		r = fail(why, "unable to fsync ", newdir.s, errno);
		goto out;
	}
	if (name && !str_copyb(name, final.s, final.len))
		name->len = 0;
	r = 0;
	goto out;
unlink_tmp:
	if (fd != -1)
		close(fd);
	fd = -1;
	(void)unlink(tmp.s);
out:
	if (fd != -1)
		close(fd);
	str_free(&uniq);
	str_free(&part);
	str_free(&tmp);
	str_free(&new);
	str_free(&newdir);
	str_free(&final);
	return r;
}
