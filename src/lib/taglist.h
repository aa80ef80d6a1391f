/* One tag-spec of a DKIM-style tag list (RFC 6376 3.2), the grammar both
 * DKIM's signature field and key record and DMARC's policy record are
 * written in.  They differ only in their white space: DKIM's may fold
 * over lines (FWS), DMARC's is blanks; the reader takes it as a function. */
#ifndef POSTERN_TAGLIST_H
#define POSTERN_TAGLIST_H
#include <stddef.h>

/* Offsets into the text: the name, the value without the white space
 * around it, and the whole of what follows the '=' (value and white
 * space, up to the ';' or the end: what DKIM removes of b= to hash). */
struct tag {
	size_t name, namelen;
	size_t val, vallen;
	size_t start, end;
};

/* The length of the piece of white space at v[i], 0 when there is none. */
typedef size_t tag_space(const char *v, size_t n, size_t i);
/* DKIM's FWS: a blank, or a line end (LF, CR LF) that a blank follows. */
size_t tag_fws(const char *v, size_t n, size_t i);
/* DMARC's: a blank. */
size_t tag_wsp(const char *v, size_t n, size_t i);
/* i moved past the white space there. */
size_t tag_skip(const char *v, size_t n, size_t i, tag_space *space);

/* The tag-spec at v[*i] (white space before it already skipped): 0 with
 * *t set and *i at the ';' after it or at n; -1 when it is none: a name
 * not ALPHA *(ALPHA / DIGIT / "_"), no '=', a byte in the value neither
 * VALCHAR (printable ASCII but ';') nor white space.  So a NUL, a bare
 * CR or LF or an 8-bit byte anywhere makes the whole list no list. */
int tag_spec(const char *v, size_t n, size_t *i, struct tag *t, tag_space *space);
/* VALCHAR (RFC 6376 3.2) */
int tag_valchar(char c);
#endif
