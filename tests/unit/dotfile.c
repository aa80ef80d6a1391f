/* postern-local's pure rules: the .postern parser, the -default search
 * order, extension and virtual-address checks, the loop scan and the
 * program exit table. */
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "postern-local/dotfile.c"
#include "postern-local/program.c"

static int entry(const struct dotfile *d, size_t i, enum dot_kind k, const char *s)
{
	return i < d->n && d->e[i].kind == k && d->e[i].len == strlen(s) && memcmp(d->e[i].s, s, d->e[i].len) == 0;
}

static enum dot_error parse(struct dotfile *d, const char *s, size_t *line)
{
	return dotfile_parse(d, s, strlen(s), line);
}

/* The candidate list as "name=default;name=default;". */
static int cands(const char *ext, const char *want)
{
	struct str c = STR_INIT, flat = STR_INIT;
	const char *p;
	int ok;

	if (!dotfile_candidates(&c, ext, strlen(ext)))
		return 0;
	for (p = c.s; p < c.s + c.len;) {
		const char *rest = p + strlen(p) + 1;
		str_cats(&flat, p);
		str_catc(&flat, '=');
		str_cats(&flat, rest);
		str_catc(&flat, ';');
		p = rest + strlen(rest) + 1;
	}
	ok = flat.len == strlen(want) && memcmp(flat.s, want, flat.len) == 0;
	if (!ok)
		printf("# got %.*s\n", (int)flat.len, flat.s ? flat.s : "");
	str_free(&c);
	str_free(&flat);
	return ok;
}

int main(void)
{
	struct dotfile d;
	size_t line, hops;
	struct str big = STR_INIT, t = STR_INIT;
	size_t i;

	/* the parser */
	CHECK(parse(&d, "# comment\n\n   \n./Maildir/\n/var/mail/x/\n|prog arg\n&a@b.example\nbob@c.example\n", &line) == DOT_OK,
	      "a file of every kind parses");
	CHECK(d.n == 5, "comments and blank lines deliver nothing");
	CHECK(entry(&d, 0, DOT_MAILDIR, "./Maildir/") && d.e[0].line == 4, "relative Maildir line, with its line number");
	CHECK(entry(&d, 1, DOT_MAILDIR, "/var/mail/x/"), "absolute Maildir line");
	CHECK(entry(&d, 2, DOT_PROGRAM, "prog arg"), "|program keeps the command without '|'");
	CHECK(entry(&d, 3, DOT_FORWARD, "a@b.example"), "&forward drops the '&'");
	CHECK(entry(&d, 4, DOT_FORWARD, "bob@c.example"), "a line starting with a letter is a forward");
	dotfile_free(&d);
	CHECK(parse(&d, "./Maildir/ \t\r\n7up@x.example", &line) == DOT_OK && entry(&d, 0, DOT_MAILDIR, "./Maildir/") &&
	      entry(&d, 1, DOT_FORWARD, "7up@x.example"), "trailing blanks stripped; last line without LF; digit forward");
	dotfile_free(&d);
	CHECK(parse(&d, "# only\n#comments\n", &line) == DOT_OK && d.n == 0, "comments only: no deliveries");
	dotfile_free(&d);
	CHECK(parse(&d, "", &line) == DOT_OK && d.n == 0, "empty file: no deliveries");
	dotfile_free(&d);
	CHECK(parse(&d, "./Maildir/\n./mbox\n", &line) == DOT_ERR_MBOX && line == 2, "mbox line refused, at line 2");
	dotfile_free(&d);
	CHECK(parse(&d, "/var/spool/mail/bob\n", &line) == DOT_ERR_MBOX, "absolute mbox refused");
	dotfile_free(&d);
	CHECK(parse(&d, "&nobody\n", &line) == DOT_ERR_FORWARD, "&forward without a domain refused");
	dotfile_free(&d);
	CHECK(parse(&d, "bob@bad..domain\n", &line) == DOT_ERR_FORWARD, "bare forward with a bad domain refused");
	dotfile_free(&d);
	CHECK(parse(&d, "&\n", &line) == DOT_ERR_FORWARD, "empty & refused");
	dotfile_free(&d);
	CHECK(parse(&d, "|   \n", &line) == DOT_ERR_PROGRAM, "empty program refused");
	dotfile_free(&d);
	CHECK(parse(&d, " ./Maildir/\n", &line) == DOT_ERR_SYNTAX, "leading blank refused");
	dotfile_free(&d);
	CHECK(parse(&d, "-x\n", &line) == DOT_ERR_SYNTAX, "line starting with '-' refused");
	dotfile_free(&d);
	CHECK(dotfile_parse(&d, "./M/\n\0/\n", 8, &line) == DOT_ERR_SYNTAX && line == 2, "NUL byte refused");
	dotfile_free(&d);

	for (i = 0; i < DOT_LINE_MAX - 2; i++)
		str_catc(&big, 'x');
	str_cats(&big, "/");
	str_copys(&t, ".");
	str_cat(&t, &big); /* exactly DOT_LINE_MAX bytes */
	CHECK(t.len == DOT_LINE_MAX && dotfile_parse(&d, t.s, t.len, &line) == DOT_OK && d.n == 1,
	      "a line of exactly 4096 bytes is accepted");
	dotfile_free(&d);
	str_cats(&t, "\n");
	str_catc(&big, 'y');
	str_copys(&t, "#ok\n.");
	str_cat(&t, &big);
	CHECK(dotfile_parse(&d, t.s, t.len, &line) == DOT_ERR_LONG && line == 2, "a 4097-byte line is refused");
	dotfile_free(&d);

	str_truncate(&t, 0);
	for (i = 0; i < DOT_LINES_MAX; i++)
		str_cats(&t, "# c\n");
	CHECK(dotfile_parse(&d, t.s, t.len, &line) == DOT_OK, "1000 lines accepted");
	dotfile_free(&d);
	str_cats(&t, "./Maildir/\n");
	CHECK(dotfile_parse(&d, t.s, t.len, &line) == DOT_ERR_LINES && line == DOT_LINES_MAX + 1, "1001 lines refused");
	dotfile_free(&d);
	CHECK(strstr(dot_error_text(DOT_ERR_MBOX), "mbox") != 0, "the mbox error says mbox");

	/* the -default search */
	CHECK(cands("a-b-c", ".postern-a-b-c=;.postern-a-b-default=c;.postern-a-default=b-c;.postern-default=a-b-c;"),
	      "a-b-c: exact, a-b-default, a-default, default");
	CHECK(cands("foo", ".postern-foo=;.postern-default=foo;"), "foo: exact, default");
	CHECK(cands("a-", ".postern-a-=;.postern-a-default=;.postern-default=a-;"), "a-: trailing separator");
	CHECK(cands("-a", ".postern--a=;.postern-default=-a;"), "-a: no empty-prefix default file");
	CHECK(cands("a+b", ".postern-a+b=;.postern-default=a+b;"), "'+' is not a dot-file separator");

	/* extensions */
	CHECK(ext_check("list-x", 6), "ordinary extension");
	CHECK(!ext_check("a/b", 3), "extension with '/' refused");
	CHECK(!ext_check(".hidden", 7), "extension starting with '.' refused");
	CHECK(!ext_check("..", 2), "extension '..' refused");
	CHECK(!ext_check("", 0), "empty extension is not an extension");
	CHECK(!ext_check("a\nb", 3), "control byte refused");
	str_truncate(&t, 0);
	for (i = 0; i < EXT_MAX; i++)
		str_catc(&t, 'e');
	CHECK(ext_check(t.s, t.len), "200-byte extension accepted");
	str_catc(&t, 'e');
	CHECK(!ext_check(t.s, t.len), "201-byte extension refused");

	/* virtual addresses */
	CHECK(vlocal_check("john.doe+tag-1_x", 16), "virtual local part of every allowed kind");
	CHECK(!vlocal_check(".john", 5), "virtual local part with leading '.' refused");
	CHECK(!vlocal_check("a/b", 3), "virtual local part with '/' refused");
	CHECK(!vlocal_check("John", 4), "upper case is lower-cased before the check");
	CHECK(!vlocal_check("a b", 3), "space refused");
	CHECK(!vlocal_check("", 0), "empty refused");
	CHECK(vdomain_check("example.org", 11), "plain domain");
	CHECK(!vdomain_check(".example.org", 12), "domain with leading '.' refused");
	CHECK(!vdomain_check("exa/mple.org", 12), "domain with '/' refused");
	CHECK(!vdomain_check("..", 2), "'..' refused");
	CHECK(!vdomain_check("", 0), "empty domain refused");
	CHECK(vlocal_base("john-list", 9) == 4 && vlocal_base("john+tag-x", 10) == 4 && vlocal_base("john", 4) == 4,
	      "virtual base cut at the first '-' or '+'");

	/* loop scan */
	{
		const char *m = "Received: from a\nDelivered-To: Bob@Example.ORG \nreceived: x\nSubject: y\n\nDelivered-To: carol@example.org\n";
		CHECK(header_scan(m, strlen(m), "bob@example.org", 15, &hops) == 1 && hops == 3,
		      "Delivered-To matched ignoring case and blanks; hops counted");
		CHECK(header_scan(m, strlen(m), "carol@example.org", 17, &hops) == 0,
		      "a Delivered-To in the body is not a loop");
		CHECK(header_scan(m, strlen(m), "ob@example.org", 14, &hops) == 0, "a suffix is not a match");
		m = "DELIVERED-TO:bob@x.org\n\n";
		CHECK(header_scan(m, strlen(m), "bob@x.org", 9, &hops) == 1, "header name in any case, no blank");
		m = "Delivered-To: bob@x.org";
		CHECK(header_scan(m, strlen(m), "bob@x.org", 9, &hops) == 0, "an unfinished last line is ignored");
		str_truncate(&t, 0);
		for (i = 0; i < 101; i++)
			str_cats(&t, "Received: x\n");
		CHECK(header_scan(t.s, t.len, "bob@x.org", 9, &hops) == 0 && hops == 101, "101 hops counted");
	}

	/* program exit table */
	CHECK(program_status(0) == 0 && program_status(99) == 99, "0 ok, 99 ok and stop");
	CHECK(program_status(100) == 100 && program_status(64) == 100 && program_status(65) == 100 &&
	      program_status(70) == 100 && program_status(76) == 100 && program_status(77) == 100 &&
	      program_status(78) == 100 && program_status(112) == 100, "qmail's permanent codes");
	CHECK(program_status(1) == 111 && program_status(75) == 111 && program_status(111) == 111 &&
	      program_status(255) == 111, "everything else temporary");
	str_copys(&t, "line one\nline\ttwo\n\n");
	text_flatten(&t);
	CHECK(str_equals(&t, "line one/line?two"), "program output flattened to one line");

	str_free(&big);
	str_free(&t);
	return check_done();
}
