#include <string.h>
#include "command.h"
#include "case.h"

static const struct {
	const char *word;
	enum verb verb;
	size_t min, max; /* arguments */
} verbs[] = {
	{ "STAT", V_STAT, 0, 0 }, { "LIST", V_LIST, 0, 1 }, { "RETR", V_RETR, 1, 1 },
	{ "DELE", V_DELE, 1, 1 }, { "NOOP", V_NOOP, 0, 0 }, { "RSET", V_RSET, 0, 0 },
	{ "QUIT", V_QUIT, 0, 0 }, { "TOP", V_TOP, 2, 2 },   { "UIDL", V_UIDL, 0, 1 },
	{ "CAPA", V_CAPA, 0, 0 },
};

static int number(const char *s, size_t n, unsigned long long *v)
{
	size_t i;

	if (n == 0)
		return 0;
	*v = 0;
	for (i = 0; i < n; i++) {
		unsigned d;
		if (s[i] < '0' || s[i] > '9')
			return 0;
		d = (unsigned)(s[i] - '0');
		*v = *v > (~0ULL - d) / 10 ? ~0ULL : *v * 10 + d;
	}
	return 1;
}

int command_parse(const char *s, size_t n, struct command *c)
{
	size_t i = 0, k, start;

	while (i < n && s[i] != ' ')
		i++;
	for (k = 0; k < sizeof verbs / sizeof verbs[0]; k++)
		if (case_eqb(s, i, verbs[k].word, strlen(verbs[k].word)))
			break;
	if (k == sizeof verbs / sizeof verbs[0])
		return CMD_UNKNOWN;
	c->verb = verbs[k].verb;
	c->nargs = 0;
	while (i < n) {
		start = ++i; /* past the one space */
		while (i < n && s[i] != ' ')
			i++;
		if (c->nargs == 2 || !number(s + start, i - start, &c->arg[c->nargs]))
			return CMD_SYNTAX;
		c->nargs++;
	}
	if (c->nargs < verbs[k].min || c->nargs > verbs[k].max)
		return CMD_SYNTAX;
	return CMD_OK;
}
