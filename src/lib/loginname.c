#include "loginname.h"
#include "ascii.h"

#define LOCAL_MAX 64
#define DOMAIN_MAX 190

static int is_lower_digit(char c) { return ascii_lower(c) || ascii_digit(c); }

static int unix_name(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > LOCAL_MAX || s[0] == '.' || s[0] == '-')
		return 0;
	for (i = 0; i < n; i++)
		if (!is_lower_digit(s[i]) && !(s[i] >= 'A' && s[i] <= 'Z') && s[i] != '.' && s[i] != '_' && s[i] != '-')
			return 0;
	return 1;
}

/* As postern-local's virtual mode takes a local part, lower case, and the
 * mailbox directory's name is this string: no / and no leading dot. */
static int virtual_local(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > LOCAL_MAX || s[0] == '.')
		return 0;
	for (i = 0; i < n; i++)
		if (!is_lower_digit(s[i]) && s[i] != '.' && s[i] != '_' && s[i] != '+' && s[i] != '-')
			return 0;
	return 1;
}

static int virtual_domain(const char *s, size_t n)
{
	size_t i, label = 0;

	if (n == 0 || n > DOMAIN_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		if (s[i] == '.') {
			if (label == 0)
				return 0; /* empty label: a leading dot, or ".." */
			label = 0;
			continue;
		}
		if (!is_lower_digit(s[i]) && !(s[i] == '-' && label > 0))
			return 0;
		label++;
	}
	return label > 0; /* no trailing dot */
}

int login_name(const char *s, size_t n, size_t *at)
{
	size_t i;

	for (i = 0; i < n && s[i] != '@'; i++)
		;
	if (i == n)
		return unix_name(s, n) ? 1 : 0;
	if (!virtual_local(s, i) || !virtual_domain(s + i + 1, n - i - 1))
		return 0;
	*at = i;
	return 2;
}
