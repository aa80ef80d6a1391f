#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>
#include "die.h"
#include "log.h"

const char *progname = "postern";

static void vsay(int with_errno, va_list ap)
{
	char buf[2048];
	size_t n = 0;
	const char *s;
	int saved = errno;

#define ADD(p) do { const char *q_ = (p); size_t l_ = strlen(q_); \
	if (l_ > sizeof buf - 1 - n) l_ = sizeof buf - 1 - n; \
	memcpy(buf + n, q_, l_); n += l_; } while (0)
	ADD(progname);
	ADD(": ");
	while ((s = va_arg(ap, const char *)))
		ADD(s);
	if (with_errno) {
		ADD(": ");
		ADD(strerror(saved));
	}
#undef ADD
	buf[n++] = '\n';
	log_flush(); /* lines held before this one come first */
	(void)!write(2, buf, n);
	errno = saved;
}

void die_(int code, int with_errno, ...)
{
	va_list ap;
	va_start(ap, with_errno);
	vsay(with_errno, ap);
	va_end(ap);
	_exit(code);
}

void warn_(int with_errno, ...)
{
	va_list ap;
	va_start(ap, with_errno);
	vsay(with_errno, ap);
	va_end(ap);
}
