/* The new password: the first line of standard input, without its
 * newline, so that a script can pipe it in (and the password never shows
 * in the process list, as an argument would).  On a terminal it is asked
 * for twice with echo off, as passwd(1) does, since a typing error
 * nobody saw would set a password nobody knows.  The bytes are the
 * password: nothing is trimmed, no character set is assumed.  But a
 * byte below 0x20, or 0x7f, is refused: postern-popup refuses those in a
 * password (they end or break a line), so it could never be used; a CR
 * at the end gets a word of its own, since it is what a file written
 * with CRLF line ends leaves there unseen.  A password over 248 bytes
 * fits AUTH PLAIN only, not a PASS line: that is said, and allowed. */
#include <errno.h>
#include <signal.h>
#include <sodium.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include "passwd.h"
#include "die.h"
#include "io.h"

static struct termios saved;
static volatile sig_atomic_t echo_off;

static void echo_on(void)
{
	if (echo_off)
		(void)tcsetattr(0, TCSAFLUSH, &saved);
	echo_off = 0;
}

/* A signal while echo is off must not leave the terminal without it. */
static void on_signal(int sig)
{
	(void)sig;
	echo_on();
	(void)!write(2, "\n", 1);
	_exit(111);
}

static void quiet(void)
{
	struct termios t;
	struct sigaction sa;
	int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP };
	size_t i;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		if (sigaction(sigs[i], &sa, 0) == -1)
			die_sys(111, "fatal: unable to catch signals");
	if (tcgetattr(0, &saved) == -1)
		die_sys(111, "fatal: unable to read the terminal's settings");
	t = saved;
	t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	if (tcsetattr(0, TCSAFLUSH, &t) == -1)
		die_sys(111, "fatal: unable to turn off echo");
	echo_off = 1;
}

/* Reads up to and without the first newline into buf: the length, or
 * PASSWORD_MAX + 1 when the line is longer than PASSWORD_MAX. */
static size_t line(char *buf)
{
	size_t n = 0;
	char c;

	while (n <= PASSWORD_MAX) {
		ssize_t r = read(0, &c, 1);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			echo_on();
			die_sys(111, "fatal: unable to read the password");
		}
		if (r == 0 || c == '\n')
			break;
		buf[n++] = c;
	}
	return n;
}

static void prompt(const char *s)
{
	if (write_all(2, s, strlen(s)) == -1) {
		echo_on();
		die_sys(111, "fatal: unable to write the prompt");
	}
}

size_t password_read(char *buf)
{
	char again[PASSWORD_MAX + 1];
	size_t n, m, i;

	if (!isatty(0)) {
		n = line(buf);
	} else {
		quiet();
		prompt("New password: ");
		n = line(buf);
		prompt("\nAgain: ");
		m = line(again);
		prompt("\n");
		echo_on();
		if (m != n || memcmp(buf, again, n) != 0) {
			sodium_memzero(again, sizeof again);
			die(100, "fatal: the two passwords differ");
		}
		sodium_memzero(again, sizeof again);
	}
	if (n == 0)
		die(100, "fatal: refusing an empty password");
	if (n > PASSWORD_MAX)
		die(100, "fatal: the password is over 1024 bytes");
	if (buf[n - 1] == '\r')
		die(100, "fatal: the password ends with a CR (a file with CRLF line ends?): "
		         "no POP3 client could send it");
	for (i = 0; i < n; i++)
		if ((unsigned char)buf[i] < 0x20 || (unsigned char)buf[i] == 0x7f)
			die(100, "fatal: the password holds a control byte (below 0x20, or 0x7f): "
			         "no POP3 client could send it");
	if (n > PASSWORD_LINE_MAX)
		warn("warning: the password is over 248 bytes: a client can send it with AUTH PLAIN, "
		     "but not with USER and PASS");
	return n;
}
