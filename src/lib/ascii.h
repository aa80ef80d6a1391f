/* ASCII character classes and case, for bytes from the network and from
 * files: <ctype.h>, which postern does not use, depends on the locale and
 * is undefined for a negative char, which an 8-bit byte is where char is
 * signed.  These take any char or unsigned char value, and say no to
 * every byte of 0x80 and over however it arrives. */
#ifndef POSTERN_ASCII_H
#define POSTERN_ASCII_H

static inline int ascii_digit(int c) { return c >= '0' && c <= '9'; }
static inline int ascii_lower(int c) { return c >= 'a' && c <= 'z'; }
static inline int ascii_upper(int c) { return c >= 'A' && c <= 'Z'; }
static inline int ascii_alpha(int c) { return ascii_lower(c) || ascii_upper(c); }
static inline int ascii_alnum(int c) { return ascii_alpha(c) || ascii_digit(c); }
/* WSP (RFC 5234): space and tab */
static inline int ascii_wsp(int c) { return c == ' ' || c == '\t'; }
/* WSP and CR: what is trimmed from a line of a file, a CR being the
 * remains of a CR LF line end */
static inline int ascii_wsp_cr(int c) { return ascii_wsp(c) || c == '\r'; }
/* VCHAR (RFC 5234): printable, space aside */
static inline int ascii_vchar(int c) { return c >= 0x21 && c <= 0x7e; }
/* c with A to Z lowered, any other value as it came: a char's 8-bit byte
 * goes back into a char unchanged, an unsigned char's into an unsigned char */
static inline int ascii_tolower(int c) { return ascii_upper(c) ? c + ('a' - 'A') : c; }

#endif
