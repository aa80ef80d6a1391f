#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <bearssl.h>
#include "pem.h"
#include "die.h"
#include "file.h"

void pem_read(const char *path, struct str *text, struct stat *st)
{
	/* Symbolic links are followed: secret/tls/ is root's to arrange, and
	 * pointing it at a certificate manager's files is a fair way to.
	 * O_NONBLOCK so that a FIFO put there cannot hang the start. */
	int fd = openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd == -1)
		die_sys(111, "fatal: unable to open ", path);
	if (fstat(fd, st) == -1)
		die_sys(111, "fatal: unable to stat ", path);
	if (!S_ISREG(st->st_mode))
		die(111, "fatal: ", path, " is not a regular file");
	if (read_fd(fd, text, PEM_FILE_MAX) == -1) {
		if (errno == EFBIG)
			die(111, "fatal: ", path, " is over 1 MB");
		die_sys(111, "fatal: unable to read ", path);
	}
	close(fd);
}

static void append(void *der, const void *b, size_t n)
{
	if (!str_catb(der, b, n))
		die_nomem();
}

void pem_decode(const char *path, const struct str *text, struct str *der,
                void (*each)(void *ctx, const char *name, const struct str *der), void *ctx)
{
	br_pem_decoder_context pc;
	const unsigned char *p = (const unsigned char *)text->s;
	size_t len = text->len;
	char name[sizeof pc.name];
	int inside = 0, tail = 0;

	br_pem_decoder_init(&pc);
	name[0] = 0;
	for (;;) {
		size_t n = br_pem_decoder_push(&pc, p, len);
		p += n;
		len -= n;
		switch (br_pem_decoder_event(&pc)) {
		case BR_PEM_BEGIN_OBJ:
			memcpy(name, br_pem_decoder_name(&pc), sizeof name);
			name[sizeof name - 1] = 0;
			der->len = 0;
			br_pem_decoder_setdest(&pc, append, der);
			inside = 1;
			break;
		case BR_PEM_END_OBJ:
			inside = 0;
			each(ctx, name, der);
			break;
		case BR_PEM_ERROR:
			die(111, "fatal: ", path, ": the PEM object ", name, " is not valid base64");
		}
		if (len == 0) {
			/* The decoder sees an END line only once it has seen the
			 * newline after it, which a file's last line may lack. */
			if (tail)
				break;
			tail = 1;
			p = (const unsigned char *)"\n";
			len = 1;
		}
	}
	if (inside)
		die(111, "fatal: ", path, ": the PEM object ", name, " has no END line");
}
