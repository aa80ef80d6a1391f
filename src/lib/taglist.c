#include "taglist.h"
#include "ascii.h"

int tag_valchar(char c) { return ascii_vchar(c) && c != ';'; }

/* A line end without a blank after it would end the field, so it is
 * never white space; the blank after one is a piece of its own. */
size_t tag_fws(const char *v, size_t n, size_t i)
{
	if (i >= n)
		return 0;
	if (ascii_wsp(v[i]))
		return 1;
	if (v[i] == '\n' && i + 1 < n && ascii_wsp(v[i + 1]))
		return 1;
	if (v[i] == '\r' && i + 2 < n && v[i + 1] == '\n' && ascii_wsp(v[i + 2]))
		return 2;
	return 0;
}

size_t tag_wsp(const char *v, size_t n, size_t i) { return i < n && ascii_wsp(v[i]); }

size_t tag_skip(const char *v, size_t n, size_t i, tag_space *space)
{
	size_t k;

	while ((k = space(v, n, i)) > 0)
		i += k;
	return i;
}

int tag_spec(const char *v, size_t n, size_t *i, struct tag *t, tag_space *space)
{
	size_t p = *i, last, w;

	if (p >= n || !ascii_alpha(v[p]))
		return -1;
	t->name = p;
	while (p < n && (ascii_alnum(v[p]) || v[p] == '_'))
		p++;
	t->namelen = p - t->name;
	p = tag_skip(v, n, p, space);
	if (p == n || v[p] != '=')
		return -1;
	t->start = ++p;
	p = last = t->val = tag_skip(v, n, p, space);
	while (p < n && v[p] != ';') {
		if (tag_valchar(v[p]))
			last = ++p;
		else if ((w = space(v, n, p)) > 0)
			p += w;
		else
			return -1;
	}
	t->vallen = last - t->val;
	t->end = p;
	*i = p;
	return 0;
}
